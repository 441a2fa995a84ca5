CREATE TABLE `control_state` (
	`treasury_id` text PRIMARY KEY NOT NULL,
	`paused` integer NOT NULL,
	`paused_by` text,
	`pause_reason` text,
	`emergency_stop` integer NOT NULL,
	`latched_by` text,
	`latch_reason` text,
	`latched_at` integer,
	`last_executed_swap_at` integer,
	`next_seq` integer NOT NULL,
	`intervention_starts` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` integer NOT NULL
);
