import { isInspectorError } from './errors';
import { runForward, FORWARD_USAGE } from './cli/forward';
import { runBench } from './cli/bench';
import { runParams } from './cli/params';
import { runGenerate, GENERATE_USAGE } from './cli/generate';

const USAGE = `Transformer Inspector CLI

  transformer-inspector forward PATH --ids 5,77,13 [--decoder-ids …] [--token-type-ids …] [--seed N] [--dump OUT.safetensors]
  transformer-inspector generate PATH (--text "…" | --ids …) --max-new-tokens N [--threads N] [--top-k K --temperature T --seed S]
  transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]
  transformer-inspector bench [--quick] [--kernel=NAME] [--threads N]
  transformer-inspector bench --model PATH (--ids … | --text …) [--threads N] [--runs R] [--json]

${FORWARD_USAGE}

${GENERATE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'forward':
      return runForward(rest);
    case 'generate':
      return runGenerate(rest);
    case 'params':
      return runParams(rest);
    case 'bench':
      return runBench(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isInspectorError(e)) {
      // A user mistake: the message and its place, no stack trace.
      console.error(`error: ${e.describe()}`);
      process.exit(1);
    }
    console.error('internal error (please report):', e);
    process.exit(2);
  },
);
