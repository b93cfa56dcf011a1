// The build's side of "the manifest is the contract": a program in the object the manifest does not list fails it.
import { ManifestError } from '../errors.js';
import { checkObjectPrograms, type ProgramSetManifest } from '../manifest/index.js';
import type { BuildIssue } from './build-issue.js';

/** PROGRAM_UNDECLARED as a build error; listed programs missing from the code are the BTF check's to report. */
export function programSetIssues(
  manifest: ProgramSetManifest,
  objectPrograms: readonly string[],
  where: string,
): BuildIssue[] {
  try {
    checkObjectPrograms(manifest, objectPrograms, where);
    return [];
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    if (err.code !== 'PROGRAM_UNDECLARED') return [];
    return [{ severity: 'error', code: err.code, message: err.message }];
  }
}
