// First, before anything compiles WebAssembly: relaxed SIMD on for this process (Node 20 needs a V8 flag).
import './cli/relaxed-simd';
import { report, UsageError, EXIT } from './cli/errors';
import { runForward, FORWARD_USAGE } from './cli/forward';
import { runBench } from './cli/bench';
import { runParams } from './cli/params';
import { runTrace, TRACE_USAGE } from './cli/trace';
import { runLens } from './cli/lens';
import { runAttribute } from './cli/attribute';
import { runHeads } from './cli/heads';
import { runAblate } from './cli/ablate';
import { runPatch } from './cli/patch';
import { runCompare } from './cli/compare';
import { runQuantize } from './cli/quantize';
import { runGguf } from './cli/gguf';
import { runGenerate, GENERATE_USAGE } from './cli/generate';

const USAGE = `Transformer Inspector CLI

${FORWARD_USAGE}

  transformer-inspector params PATH [--json] [--dtype bf16] [--context N] [--batch B]
  transformer-inspector bench [--quick] [--kernel=NAME] [--threads N]
  transformer-inspector bench --model PATH (--ids … | --text …) [--threads N] [--runs R] [--json]
  transformer-inspector lens PATH (--ids … | --text …) [--target TOKEN] [--top K] [--json]
  transformer-inspector attribute PATH (--ids … | --text …) --target TOKEN [--versus TOKEN] [--position P] [--json]
  transformer-inspector heads PATH [--ids … | --text …] [--repeat-length N] [--repeat-seed S] [--json]
  transformer-inspector ablate PATH (--ids … | --text …) [--heads 2.1,3.0] [--mlp 1] [--layers 0] [--mean] [--json]
  transformer-inspector patch PATH --clean "…" --corrupted "…" --target TOKEN --versus TOKEN [--what resid|heads|mlp] [--json]
  transformer-inspector compare PATH (--ids … | --text …) [--with PATH2] [--with-ids … | --with-text …] [--hook NAME] [--json]
  transformer-inspector gguf FILE.gguf [--json] [--tensors]
  transformer-inspector quantize PATH --method int8|rtn|llm-int8|gptq|awq [--bits B] [--group G] [--sym] [--json] (see quantize --help)

${GENERATE_USAGE}

${TRACE_USAGE}

Exit codes: 0 done, 1 a mistake in the config, weights or input, 2 a usage error, 70 an internal error.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'forward':
      return runForward(rest);
    case 'generate':
      return runGenerate(rest);
    case 'params':
      return runParams(rest);
    case 'trace':
      return runTrace(rest);
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
    case 'quantize':
      return runQuantize(rest);
    case 'gguf':
      return runGguf(rest);
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
