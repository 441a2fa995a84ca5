CREATE TABLE "config_versions" (
	"treasury_id" text NOT NULL,
	"version" integer NOT NULL,
	"config" jsonb NOT NULL,
	"source" text NOT NULL,
	"by" text,
	"at" bigint NOT NULL,
	CONSTRAINT "config_versions_treasury_id_version_pk" PRIMARY KEY("treasury_id","version")
);
--> statement-breakpoint
ALTER TABLE "interventions" ADD COLUMN "config_version" integer;--> statement-breakpoint
CREATE INDEX "config_versions_treasury_time" ON "config_versions" USING btree ("treasury_id","at");