// Legacy attachments (netlink XDP, BPF_PROG_ATTACH) of a deployment being cleaned away that no pin names: a crash
// between attach and pin leaves the program on its hook (no link to go with the process), and XDP would stay busy.
import { detachOrphan } from '@bpfleet/sdk/bpf';
import { errorMessage } from '@bpfleet/sdk/errors';
import type { Logger } from '../logger.js';
import type { DeploymentMeta } from './deployment-meta.js';

/** Takes each recorded program without a pin off its recorded hook, where it still runs by its recorded id. */
export function removeOrphanAttachments(
  id: string,
  meta: DeploymentMeta,
  pinned: ReadonlySet<string>,
  logger: Logger,
): void {
  for (const version of [meta.current, meta.previous]) {
    for (const [name, programId] of Object.entries(version?.programIds ?? {})) {
      const target = version?.targets?.[name];
      if (pinned.has(name) || !target) continue;
      try {
        if (detachOrphan(target, programId)) {
          logger.warn('removed an attachment no pin named', { id, name, programId });
        }
      } catch (err) {
        logger.warn('an attachment no pin named could not be removed', {
          id,
          name,
          error: errorMessage(err),
        });
      }
    }
  }
}
