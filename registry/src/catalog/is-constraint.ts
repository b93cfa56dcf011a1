// Whether a better-sqlite3 error is a constraint violation of the given code (prefix), e.g. a duplicate key.
import Database from 'better-sqlite3';

export function isConstraint(err: unknown, code: string): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith(code);
}
