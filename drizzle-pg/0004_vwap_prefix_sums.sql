ALTER TABLE "price_samples" ADD COLUMN "cum_price_volume" numeric;--> statement-breakpoint
ALTER TABLE "price_samples" ADD COLUMN "cum_volume" numeric;--> statement-breakpoint
ALTER TABLE "price_samples" ADD COLUMN "cum_price" numeric;--> statement-breakpoint
ALTER TABLE "price_samples" ADD COLUMN "cum_count" integer;