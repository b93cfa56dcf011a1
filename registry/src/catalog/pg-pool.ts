// The PostgreSQL pool helpers the catalog shares: transactions, SQLSTATE checks, BIGINT columns as numbers.
import pg from 'pg';

export type Queryable = pg.Pool | pg.PoolClient;

/** SQLSTATEs the catalog turns into its own error codes. */
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

export function isPgError(err: unknown, sqlState: string): boolean {
  return err instanceof pg.DatabaseError && err.code === sqlState;
}

/** Runs `fn` in one transaction on one connection; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** The rows of a query, typed by the caller. */
export async function rows<T>(db: Queryable, sql: string, args: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, args)).rows as T[];
}
