// The manifest is the contract: every program of an object must be listed, and only those listed to load run.
import { ManifestError } from '../errors.js';
import type { ProgramDecl } from './types.js';

/** The part of a manifest the check reads (the build passes its own structural subset). */
export interface ProgramSetManifest {
  programs: ReadonlyArray<Pick<ProgramDecl, 'name' | 'load'>>;
}

/** A ManifestError about the program set; its message starts with the caller's context, not "manifest". */
export class ProgramSetError extends ManifestError {
  constructor(code: 'PROGRAM_UNDECLARED' | 'PROGRAM_MISSING', where: string, detail: string) {
    super(code, 'programs', detail);
    this.message = `${where}: ${detail}`;
  }
}

/**
 * Checks an object's programs against the manifest and returns the names to load (listed, not `load: false`),
 * in the manifest's order. Throws PROGRAM_UNDECLARED naming every program of the object the manifest does not
 * list, else PROGRAM_MISSING naming every listed program the object lacks.
 */
export function checkObjectPrograms(
  manifest: ProgramSetManifest,
  objectProgramNames: readonly string[],
  where: string,
): string[] {
  const listed = new Set(manifest.programs.map((p) => p.name));
  const inObject = new Set(objectProgramNames);
  const undeclared = [...inObject].filter((name) => !listed.has(name)).sort();
  if (undeclared.length > 0) {
    throw new ProgramSetError(
      'PROGRAM_UNDECLARED',
      where,
      `the object holds ${plural(undeclared.length)} the manifest does not list: ${undeclared.join(', ')} (list each in programs, with load: false and a description if it must not run)`,
    );
  }
  const missing = manifest.programs.filter((p) => !inObject.has(p.name)).map((p) => p.name);
  if (missing.length > 0) {
    throw new ProgramSetError(
      'PROGRAM_MISSING',
      where,
      `the manifest lists ${missing.length === 1 ? 'a program' : 'programs'} the object does not have: ${missing.join(', ')}`,
    );
  }
  return manifest.programs.filter((p) => p.load !== false).map((p) => p.name);
}

function plural(n: number): string {
  return n === 1 ? 'a program' : `${n} programs`;
}
