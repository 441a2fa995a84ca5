CREATE TABLE `alerts` (
	`treasury_id` text NOT NULL,
	`alert_key` text NOT NULL,
	`at` integer NOT NULL,
	`level` text NOT NULL,
	`kind` text NOT NULL,
	`message` text NOT NULL,
	`data` text,
	`delivered` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`treasury_id`, `alert_key`),
	CONSTRAINT "alerts_level" CHECK("level" IN ('critical', 'warning', 'info', 'governance'))
);
--> statement-breakpoint
CREATE INDEX `alerts_treasury_time` ON `alerts` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `intervention_steps` (
	`intervention_id` text NOT NULL,
	`step` text NOT NULL,
	`treasury_id` text NOT NULL,
	`at` integer NOT NULL,
	`inputs` text NOT NULL,
	`outcome` text NOT NULL,
	`verdict` text NOT NULL,
	PRIMARY KEY(`intervention_id`, `step`),
	FOREIGN KEY (`intervention_id`) REFERENCES `interventions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `intervention_steps_treasury_time` ON `intervention_steps` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `interventions` (
	`id` text PRIMARY KEY NOT NULL,
	`treasury_id` text NOT NULL,
	`seq` integer NOT NULL,
	`started_at` integer NOT NULL,
	`status` text NOT NULL,
	`tier` real,
	`fraction` real,
	`pump_amount` text,
	`pstr_bought` text,
	`usd_value` real,
	`decided_price` real NOT NULL,
	`vwap30` real NOT NULL,
	`drawdown` real NOT NULL,
	`executed_at` integer,
	`reason` text,
	`updated_at` integer NOT NULL,
	CONSTRAINT "interventions_status" CHECK("status" IN ('running', 'executed', 'invalidated', 'expired', 'rejected', 'aborted'))
);
--> statement-breakpoint
CREATE INDEX `interventions_treasury_time` ON `interventions` (`treasury_id`,`started_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `interventions_treasury_seq` ON `interventions` (`treasury_id`,`seq`);--> statement-breakpoint
CREATE TABLE `monitoring_logs` (
	`treasury_id` text NOT NULL,
	`cycle_id` text NOT NULL,
	`at` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`treasury_id`, `cycle_id`)
);
--> statement-breakpoint
CREATE INDEX `monitoring_logs_treasury_time` ON `monitoring_logs` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `price_samples` (
	`treasury_id` text NOT NULL,
	`cycle_id` text NOT NULL,
	`timestamp` integer NOT NULL,
	`pstr_price` real NOT NULL,
	`pstr_volume` real NOT NULL,
	`pump_price` real NOT NULL,
	`sol_price` real,
	`consensus` text NOT NULL,
	PRIMARY KEY(`treasury_id`, `cycle_id`)
);
--> statement-breakpoint
CREATE INDEX `price_samples_treasury_time` ON `price_samples` (`treasury_id`,`timestamp`);--> statement-breakpoint
CREATE TABLE `proposals` (
	`id` text PRIMARY KEY NOT NULL,
	`treasury_id` text NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`change` text NOT NULL,
	`created_at` integer NOT NULL,
	`deadline` integer NOT NULL,
	`status` text NOT NULL,
	`snapshot` text NOT NULL,
	`outcome` text
);
--> statement-breakpoint
CREATE INDEX `proposals_treasury_time` ON `proposals` (`treasury_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `swap_records` (
	`intervention_id` text NOT NULL,
	`slice` integer NOT NULL,
	`treasury_id` text NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`pump_in` text NOT NULL,
	`pstr_out` text,
	`signature` text,
	`details` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`intervention_id`, `slice`),
	FOREIGN KEY (`intervention_id`) REFERENCES `interventions`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "swap_records_status" CHECK("status" IN ('prepared', 'sent', 'confirmed', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `swap_records_treasury_time` ON `swap_records` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `treasury_snapshots` (
	`treasury_id` text NOT NULL,
	`snapshot_id` text NOT NULL,
	`at` integer NOT NULL,
	`pump_balance` text NOT NULL,
	`usdc_balance` text NOT NULL,
	`sol_balance` text NOT NULL,
	`pstr_retired` text NOT NULL,
	`treasury_value_usd` real NOT NULL,
	`market_cap_usd` real NOT NULL,
	`reserve_ratio` real NOT NULL,
	`pump_concentration` real NOT NULL,
	`health` real NOT NULL,
	`health_level` text NOT NULL,
	`emergency_stop` integer NOT NULL,
	PRIMARY KEY(`treasury_id`, `snapshot_id`),
	CONSTRAINT "treasury_snapshots_health_level" CHECK("health_level" IN ('excellent', 'good', 'moderate', 'poor', 'critical'))
);
--> statement-breakpoint
CREATE INDEX `treasury_snapshots_treasury_time` ON `treasury_snapshots` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `votes` (
	`proposal_id` text NOT NULL,
	`voter` text NOT NULL,
	`treasury_id` text NOT NULL,
	`at` integer NOT NULL,
	`choice` text NOT NULL,
	`power` real NOT NULL,
	PRIMARY KEY(`proposal_id`, `voter`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "votes_choice" CHECK("choice" IN ('yes', 'no', 'abstain'))
);
--> statement-breakpoint
CREATE INDEX `votes_treasury_time` ON `votes` (`treasury_id`,`at`);