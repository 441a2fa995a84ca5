ALTER TABLE `price_samples` ADD `cum_price_volume` text;--> statement-breakpoint
ALTER TABLE `price_samples` ADD `cum_volume` text;--> statement-breakpoint
ALTER TABLE `price_samples` ADD `cum_price` text;--> statement-breakpoint
ALTER TABLE `price_samples` ADD `cum_count` integer;