// faultline's command line (commander). Thin: parses, calls src/.
// Exit codes: 0 ok, 1 a finding or a failure, 2 a usage error.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runDemo } from '../src/fuzz/demo.js';
import { formatNs } from '../src/sim/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

const program = new Command();
program
  .name('faultline')
  .description('A Trinity-style system-call fuzzer against a deterministic simulated Linux kernel')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError()
  .exitOverride();

program
  .command('demo')
  .description('run a built-in simulation through the engine (lock ring with lockdep and the deadlock detector)')
  .option('--seeds <n>', 'number of seeds to run', positiveInt('--seeds'), 200)
  .option('--tasks <n>', 'tasks in the ring', positiveInt('--tasks'), 5)
  .addOption(new Option('--strategy <name>', 'scheduler strategy').choices(['random', 'pct']).default('random'))
  .option('--buggy', 'let the last task take its locks in the inverted order')
  .option('--json', 'machine-readable output only')
  .action((o: { seeds: number; tasks: number; strategy: 'random' | 'pct'; buggy?: boolean; json?: boolean }) => {
    const t0 = performance.now();
    const s = runDemo({ seeds: o.seeds, tasks: o.tasks, strategy: o.strategy, buggy: o.buggy ?? false });
    const ms = performance.now() - t0;
    const findings = [...s.byTitle.entries()].map(([title, count]) => ({ title, count }));
    if (o.json) {
      console.log(JSON.stringify({ runs: s.runs, steps: s.steps, virtualNs: s.virtualNs, wallMs: Math.round(ms), findings }));
    } else {
      console.log(`faultline demo: ${s.runs} runs, ${o.tasks + 1} tasks each, strategy ${o.strategy}${o.buggy ? ', inverted lock order' : ''}`);
      console.log(`  ${s.steps.toLocaleString('en-US')} scheduling steps in ${ms.toFixed(0)} ms (${Math.round(s.steps / (ms / 1000)).toLocaleString('en-US')} steps/s), ${formatNs(s.virtualNs)} of virtual time`);
      if (findings.length === 0) console.log('  no reports');
      for (const f of findings) console.log(`  ${String(f.count).padStart(5)} × ${f.title}`);
      if (s.firstReport) {
        console.log(`\nfirst report (seed ${s.firstSeed}; reproduce with: faultline demo --seeds ${s.firstSeed}${o.buggy ? ' --buggy' : ''}):\n`);
        console.log(s.firstReport.details);
      }
    }
    process.exitCode = findings.length > 0 ? 1 : 0;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  throw e;
}
