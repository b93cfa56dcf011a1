// `bpfleet completion bash|zsh|fish`: prints a completion script for the shell, built from the command tree.
import { type Command, InvalidArgumentError } from 'commander';
import { bashCompletion, fishCompletion, zshCompletion } from '../completion.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

export function register(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish', (value: string) => {
      if (!(value in SHELLS)) throw new InvalidArgumentError(`${value}: give bash, zsh or fish`);
      return value as keyof typeof SHELLS;
    })
    .addHelpText(
      'after',
      `
Examples:
  source <(bpfleet completion bash)                      # this shell
  bpfleet completion bash > /etc/bash_completion.d/bpfleet
  bpfleet completion zsh > "\${fpath[1]}/_bpfleet"
  bpfleet completion fish > ~/.config/fish/completions/bpfleet.fish`,
    )
    .action((shell: keyof typeof SHELLS) => {
      // The root program, so the script covers every command, however this one was reached.
      let root = program;
      while (root.parent) root = root.parent;
      process.stdout.write(SHELLS[shell](root));
    });
}
