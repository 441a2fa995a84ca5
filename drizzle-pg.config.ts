// drizzle-kit reads this to turn src/db/schema-pg.ts into PostgreSQL
// migrations under drizzle-pg/ (`npm run db:generate`); the store applies them
// when it connects to a DATABASE_URL.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema-pg.ts',
  out: './drizzle-pg',
});
