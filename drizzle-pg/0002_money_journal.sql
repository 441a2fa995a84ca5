CREATE TABLE "money_journal" (
	"treasury_id" text NOT NULL,
	"path" text NOT NULL,
	"key" text NOT NULL,
	"at" bigint NOT NULL,
	"status" text NOT NULL,
	"amount_in" numeric(40, 0) NOT NULL,
	"amount_out" numeric(40, 0),
	"signature" text,
	"details" jsonb NOT NULL,
	"revision" integer NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "money_journal_treasury_id_path_key_pk" PRIMARY KEY("treasury_id","path","key"),
	CONSTRAINT "money_journal_status" CHECK ("status" IN ('prepared', 'sent', 'confirmed', 'failed')),
	CONSTRAINT "money_journal_path" CHECK ("path" IN ('accumulation', 'liquidity'))
);
--> statement-breakpoint
CREATE INDEX "money_journal_treasury_time" ON "money_journal" USING btree ("treasury_id","at");