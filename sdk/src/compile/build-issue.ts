// A disagreement the build found between the manifest and the code: errors fail the build, warnings do not.

export interface BuildIssue {
  severity: 'error' | 'warning';
  /** SCREAMING_SNAKE, stable (CONFIG_MISSING_IN_CODE, MAP_MISSING_IN_CODE, LICENSE_MISMATCH, …). */
  code: string;
  message: string;
}

export function hasErrors(issues: readonly BuildIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
