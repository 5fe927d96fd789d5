import { isInspectorError } from './errors';
import { runForward, FORWARD_USAGE } from './cli/forward';
import { runBench } from './cli/bench';
import { runParams } from './cli/params';
import { runLens } from './cli/lens';
import { runAttribute } from './cli/attribute';
import { runHeads } from './cli/heads';
import { runAblate } from './cli/ablate';
import { runPatch } from './cli/patch';
import { runCompare } from './cli/compare';

const USAGE = `Transformer Inspector CLI

  transformer-inspector forward PATH --ids 5,77,13 [--decoder-ids …] [--token-type-ids …] [--seed N] [--dump OUT.safetensors]
  transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]
  transformer-inspector bench [--quick]
  transformer-inspector lens PATH (--ids … | --text …) [--target TOKEN] [--top K] [--json]
  transformer-inspector attribute PATH (--ids … | --text …) --target TOKEN [--versus TOKEN] [--position P] [--json]
  transformer-inspector heads PATH [--ids … | --text …] [--repeat-length N] [--repeat-seed S] [--json]
  transformer-inspector ablate PATH (--ids … | --text …) [--heads 2.1,3.0] [--mlp 1] [--layers 0] [--mean] [--json]
  transformer-inspector patch PATH --clean "…" --corrupted "…" --target TOKEN --versus TOKEN [--what resid|heads|mlp] [--json]
  transformer-inspector compare PATH (--ids … | --text …) [--with PATH2] [--with-ids … | --with-text …] [--hook NAME] [--json]

${FORWARD_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'forward':
      return runForward(rest);
    case 'params':
      return runParams(rest);
    case 'bench':
      return runBench(rest);
    case 'lens':
      return runLens(rest);
    case 'attribute':
      return runAttribute(rest);
    case 'heads':
      return runHeads(rest);
    case 'ablate':
      return runAblate(rest);
    case 'patch':
      return runPatch(rest);
    case 'compare':
      return runCompare(rest);
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
