CREATE TABLE `config_versions` (
	`treasury_id` text NOT NULL,
	`version` integer NOT NULL,
	`config` text NOT NULL,
	`source` text NOT NULL,
	`by` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`treasury_id`, `version`)
);
--> statement-breakpoint
CREATE INDEX `config_versions_treasury_time` ON `config_versions` (`treasury_id`,`at`);--> statement-breakpoint
ALTER TABLE `interventions` ADD `config_version` integer;