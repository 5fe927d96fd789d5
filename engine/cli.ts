import { report, UsageError, EXIT } from './cli/errors';
import { runForward, FORWARD_USAGE } from './cli/forward';
import { runBench } from './cli/bench';
import { runParams } from './cli/params';
import { runTrace, TRACE_USAGE } from './cli/trace';

const USAGE = `Transformer Inspector CLI

${FORWARD_USAGE}

  transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]
  transformer-inspector bench [--quick]

${TRACE_USAGE}

Exit codes: 0 done, 1 a mistake in the config, weights or input, 2 a usage error, 70 an internal error.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'forward':
      return runForward(rest);
    case 'params':
      return runParams(rest);
    case 'trace':
      return runTrace(rest);
    case 'bench':
      return runBench(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command '${command.slice(0, 40)}' (commands: forward, params, bench, help)`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (e: unknown) => process.exit(report(e, ['forward', 'params', 'bench'].includes(argv[0]) ? argv[0] : '')),
);
