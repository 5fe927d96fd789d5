import { isInspectorError } from './errors';
import { runForward, FORWARD_USAGE } from './cli/forward';
import { runBench } from './cli/bench';
import { runParams } from './cli/params';
import { runQuantize } from './cli/quantize';
import { runGguf } from './cli/gguf';

const USAGE = `Transformer Inspector CLI

  transformer-inspector forward PATH --ids 5,77,13 [--decoder-ids …] [--token-type-ids …] [--seed N] [--dump OUT.safetensors]
  transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]
  transformer-inspector bench [--quick]
  transformer-inspector gguf FILE.gguf [--json] [--tensors]
  transformer-inspector quantize PATH --method int8|rtn|llm-int8|gptq|awq [--bits B] [--group G] [--sym] [--json] (see quantize --help)

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
    case 'quantize':
      return runQuantize(rest);
    case 'gguf':
      return runGguf(rest);
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
