// A policy field that does not match the schema: `path` names it (`programs[1].version`).
import { type ErrorOptions, PolicyError } from '../errors.js';

export class PolicyFieldError extends PolicyError {
  readonly path: string;

  constructor(code: string, path: string, message: string, options?: ErrorOptions) {
    super(code, path ? `policy ${path}: ${message}` : `policy: ${message}`, options);
    this.path = path;
  }
}
