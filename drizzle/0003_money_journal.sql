CREATE TABLE `money_journal` (
	`treasury_id` text NOT NULL,
	`path` text NOT NULL,
	`key` text NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`amount_in` text NOT NULL,
	`amount_out` text,
	`signature` text,
	`details` text NOT NULL,
	`revision` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`treasury_id`, `path`, `key`),
	CONSTRAINT "money_journal_status" CHECK("status" IN ('prepared', 'sent', 'confirmed', 'failed')),
	CONSTRAINT "money_journal_path" CHECK("path" IN ('accumulation', 'liquidity'))
);
--> statement-breakpoint
CREATE INDEX `money_journal_treasury_time` ON `money_journal` (`treasury_id`,`at`);