CREATE TABLE `ledger_balances` (
	`treasury_id` text PRIMARY KEY NOT NULL,
	`pump` text NOT NULL,
	`usdc` text NOT NULL,
	`sol` text NOT NULL,
	`pstr_retired` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`treasury_id` text NOT NULL,
	`entry_key` text NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`pump_delta` text NOT NULL,
	`usdc_delta` text NOT NULL,
	`sol_delta` text NOT NULL,
	`pstr_delta` text NOT NULL,
	`price` real,
	`details` text NOT NULL,
	PRIMARY KEY(`treasury_id`, `entry_key`),
	CONSTRAINT "ledger_entries_kind" CHECK("kind" IN ('init', 'accumulation', 'swap', 'rebalance'))
);
--> statement-breakpoint
CREATE INDEX `ledger_entries_treasury_time` ON `ledger_entries` (`treasury_id`,`at`);--> statement-breakpoint
CREATE TABLE `lp_positions` (
	`treasury_id` text NOT NULL,
	`pool` text NOT NULL,
	`quote` text NOT NULL,
	`liquidity` real NOT NULL,
	`lower` real NOT NULL,
	`upper` real NOT NULL,
	`center` real NOT NULL,
	`entry_base` real NOT NULL,
	`entry_quote` real NOT NULL,
	`last_rebalance_at` integer,
	`rebalances` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`treasury_id`, `pool`),
	CONSTRAINT "lp_positions_quote" CHECK("quote" IN ('SOL', 'USDC'))
);
