CREATE TABLE "alerts" (
	"treasury_id" text NOT NULL,
	"alert_key" text NOT NULL,
	"at" bigint NOT NULL,
	"level" text NOT NULL,
	"kind" text NOT NULL,
	"message" text NOT NULL,
	"data" jsonb,
	"delivered" boolean DEFAULT false NOT NULL,
	CONSTRAINT "alerts_treasury_id_alert_key_pk" PRIMARY KEY("treasury_id","alert_key"),
	CONSTRAINT "alerts_level" CHECK ("level" IN ('critical', 'warning', 'info', 'governance'))
);
--> statement-breakpoint
CREATE TABLE "intervention_steps" (
	"intervention_id" text NOT NULL,
	"step" text NOT NULL,
	"treasury_id" text NOT NULL,
	"at" bigint NOT NULL,
	"inputs" jsonb NOT NULL,
	"outcome" jsonb NOT NULL,
	"verdict" text NOT NULL,
	CONSTRAINT "intervention_steps_intervention_id_step_pk" PRIMARY KEY("intervention_id","step")
);
--> statement-breakpoint
CREATE TABLE "interventions" (
	"id" text PRIMARY KEY NOT NULL,
	"treasury_id" text NOT NULL,
	"seq" integer NOT NULL,
	"started_at" bigint NOT NULL,
	"status" text NOT NULL,
	"tier" double precision,
	"fraction" double precision,
	"pump_amount" numeric(40, 0),
	"pstr_bought" numeric(40, 0),
	"usd_value" double precision,
	"decided_price" double precision NOT NULL,
	"vwap30" double precision NOT NULL,
	"drawdown" double precision NOT NULL,
	"executed_at" bigint,
	"reason" text,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "interventions_treasury_seq" UNIQUE("treasury_id","seq"),
	CONSTRAINT "interventions_status" CHECK ("status" IN ('running', 'executed', 'invalidated', 'expired', 'rejected', 'aborted'))
);
--> statement-breakpoint
CREATE TABLE "ledger_balances" (
	"treasury_id" text PRIMARY KEY NOT NULL,
	"pump" numeric(40, 0) NOT NULL,
	"usdc" numeric(40, 0) NOT NULL,
	"sol" numeric(40, 0) NOT NULL,
	"pstr_retired" numeric(40, 0) NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"treasury_id" text NOT NULL,
	"entry_key" text NOT NULL,
	"at" bigint NOT NULL,
	"kind" text NOT NULL,
	"pump_delta" numeric(40, 0) NOT NULL,
	"usdc_delta" numeric(40, 0) NOT NULL,
	"sol_delta" numeric(40, 0) NOT NULL,
	"pstr_delta" numeric(40, 0) NOT NULL,
	"price" double precision,
	"details" jsonb NOT NULL,
	CONSTRAINT "ledger_entries_treasury_id_entry_key_pk" PRIMARY KEY("treasury_id","entry_key"),
	CONSTRAINT "ledger_entries_kind" CHECK ("kind" IN ('init', 'accumulation', 'swap', 'rebalance'))
);
--> statement-breakpoint
CREATE TABLE "lp_positions" (
	"treasury_id" text NOT NULL,
	"pool" text NOT NULL,
	"quote" text NOT NULL,
	"liquidity" double precision NOT NULL,
	"lower" double precision NOT NULL,
	"upper" double precision NOT NULL,
	"center" double precision NOT NULL,
	"entry_base" double precision NOT NULL,
	"entry_quote" double precision NOT NULL,
	"last_rebalance_at" bigint,
	"rebalances" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "lp_positions_treasury_id_pool_pk" PRIMARY KEY("treasury_id","pool"),
	CONSTRAINT "lp_positions_quote" CHECK ("quote" IN ('SOL', 'USDC'))
);
--> statement-breakpoint
CREATE TABLE "monitoring_logs" (
	"treasury_id" text NOT NULL,
	"cycle_id" text NOT NULL,
	"at" bigint NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "monitoring_logs_treasury_id_cycle_id_pk" PRIMARY KEY("treasury_id","cycle_id")
);
--> statement-breakpoint
CREATE TABLE "price_samples" (
	"treasury_id" text NOT NULL,
	"cycle_id" text NOT NULL,
	"timestamp" bigint NOT NULL,
	"pstr_price" double precision NOT NULL,
	"pstr_volume" double precision NOT NULL,
	"pump_price" double precision NOT NULL,
	"sol_price" double precision,
	"consensus" jsonb NOT NULL,
	CONSTRAINT "price_samples_treasury_id_cycle_id_pk" PRIMARY KEY("treasury_id","cycle_id")
);
--> statement-breakpoint
CREATE TABLE "proposals" (
	"id" text PRIMARY KEY NOT NULL,
	"treasury_id" text NOT NULL,
	"kind" text NOT NULL,
	"description" text NOT NULL,
	"change" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"deadline" bigint NOT NULL,
	"status" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	"outcome" jsonb
);
--> statement-breakpoint
CREATE TABLE "swap_records" (
	"intervention_id" text NOT NULL,
	"slice" integer NOT NULL,
	"treasury_id" text NOT NULL,
	"at" bigint NOT NULL,
	"status" text NOT NULL,
	"pump_in" numeric(40, 0) NOT NULL,
	"pstr_out" numeric(40, 0),
	"signature" text,
	"details" jsonb NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "swap_records_intervention_id_slice_pk" PRIMARY KEY("intervention_id","slice"),
	CONSTRAINT "swap_records_status" CHECK ("status" IN ('prepared', 'sent', 'confirmed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "treasury_snapshots" (
	"treasury_id" text NOT NULL,
	"snapshot_id" text NOT NULL,
	"at" bigint NOT NULL,
	"pump_balance" numeric(40, 0) NOT NULL,
	"usdc_balance" numeric(40, 0) NOT NULL,
	"sol_balance" numeric(40, 0) NOT NULL,
	"pstr_retired" numeric(40, 0) NOT NULL,
	"treasury_value_usd" double precision NOT NULL,
	"market_cap_usd" double precision NOT NULL,
	"reserve_ratio" double precision NOT NULL,
	"pump_concentration" double precision NOT NULL,
	"health" double precision NOT NULL,
	"health_level" text NOT NULL,
	"emergency_stop" boolean NOT NULL,
	CONSTRAINT "treasury_snapshots_treasury_id_snapshot_id_pk" PRIMARY KEY("treasury_id","snapshot_id"),
	CONSTRAINT "treasury_snapshots_health_level" CHECK ("health_level" IN ('excellent', 'good', 'moderate', 'poor', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "votes" (
	"proposal_id" text NOT NULL,
	"voter" text NOT NULL,
	"treasury_id" text NOT NULL,
	"at" bigint NOT NULL,
	"choice" text NOT NULL,
	"power" double precision NOT NULL,
	CONSTRAINT "votes_proposal_id_voter_pk" PRIMARY KEY("proposal_id","voter"),
	CONSTRAINT "votes_choice" CHECK ("choice" IN ('yes', 'no', 'abstain'))
);
--> statement-breakpoint
ALTER TABLE "intervention_steps" ADD CONSTRAINT "intervention_steps_intervention_id_interventions_id_fk" FOREIGN KEY ("intervention_id") REFERENCES "public"."interventions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swap_records" ADD CONSTRAINT "swap_records_intervention_id_interventions_id_fk" FOREIGN KEY ("intervention_id") REFERENCES "public"."interventions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "votes" ADD CONSTRAINT "votes_proposal_id_proposals_id_fk" FOREIGN KEY ("proposal_id") REFERENCES "public"."proposals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_treasury_time" ON "alerts" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "intervention_steps_treasury_time" ON "intervention_steps" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "interventions_treasury_time" ON "interventions" USING btree ("treasury_id","started_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_treasury_time" ON "ledger_entries" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "monitoring_logs_treasury_time" ON "monitoring_logs" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "price_samples_treasury_time" ON "price_samples" USING btree ("treasury_id","timestamp");--> statement-breakpoint
CREATE INDEX "proposals_treasury_time" ON "proposals" USING btree ("treasury_id","created_at");--> statement-breakpoint
CREATE INDEX "swap_records_treasury_time" ON "swap_records" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "treasury_snapshots_treasury_time" ON "treasury_snapshots" USING btree ("treasury_id","at");--> statement-breakpoint
CREATE INDEX "votes_treasury_time" ON "votes" USING btree ("treasury_id","at");