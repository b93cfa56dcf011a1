// `namespace/name` and `namespace/name@version` as typed on a command line.
import { RegistryError } from '../errors.js';

export interface PackageRef {
  namespace: string;
  name: string;
  version?: string;
}

const REF = /^([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?$/;

export function parsePackageRef(text: string): PackageRef {
  const match = REF.exec(text);
  if (!match) {
    throw new RegistryError(
      'INVALID_PACKAGE_REF',
      `package ${JSON.stringify(text)}: expected namespace/name[@version]`,
    );
  }
  const [, namespace = '', name = '', version] = match;
  return version === undefined ? { namespace, name } : { namespace, name, version };
}
