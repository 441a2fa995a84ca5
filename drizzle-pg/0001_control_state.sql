CREATE TABLE "control_state" (
	"treasury_id" text PRIMARY KEY NOT NULL,
	"paused" boolean NOT NULL,
	"paused_by" text,
	"pause_reason" text,
	"emergency_stop" boolean NOT NULL,
	"latched_by" text,
	"latch_reason" text,
	"latched_at" bigint,
	"last_executed_swap_at" bigint,
	"next_seq" integer NOT NULL,
	"intervention_starts" jsonb NOT NULL,
	"version" integer NOT NULL,
	"updated_at" bigint NOT NULL
);
