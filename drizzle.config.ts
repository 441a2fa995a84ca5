// drizzle-kit reads this to turn src/db/schema.ts into SQL migrations under
// drizzle/ (`npm run db:generate`); the store applies them at open.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
