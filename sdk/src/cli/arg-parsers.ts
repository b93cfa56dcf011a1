// Option values checked where commander parses them, so a bad one is a usage error (exit 2) naming the option.
import { InvalidArgumentError } from 'commander';
import { errorMessage } from '../errors.js';

/** Wraps a parser that throws bpfleet errors into the error commander reports as a usage error. */
export function usageArg<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(errorMessage(err));
    }
  };
}
