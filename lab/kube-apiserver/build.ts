// Where the kube-apiserver built from Debian's source is: scripts/kube-apiserver.sh builds it
// once into a cache outside the repository (/var/cache/wren) and prints the directory holding
// kube-apiserver and kubectl. Found from this module's place, in the source tree (tests) and in
// dist/ (the CLI) alike.
import { join } from 'node:path';
import { run, spawn } from '../../kernel/exec.js';
import type { Progress } from '../progress.js';
import { repoFile } from './repo-file.js';

/** What scripts/kube-apiserver.sh builds. */
export const KUBE_APISERVER_VERSION = 'v1.20.2';

export interface KubeApiServerBuild {
  readonly apiserver: string;
  readonly kubectl: string;
}

export class KubeApiServerBuildError extends Error {
  override readonly name = 'KubeApiServerBuildError';
}

const buildScript = () => repoFile('scripts/kube-apiserver.sh');

/** The build, if the cache holds it for this recipe and version; never builds. */
export async function cachedKubeApiServer(): Promise<KubeApiServerBuild | undefined> {
  const result = await run('bash', [buildScript(), '--check']);
  return result.exitCode === 0 ? paths(result.stdout) : undefined;
}

/**
 * The build, made first if needed (about 3 minutes on 2 cores, once per machine): the script's
 * progress goes to this process's stderr, so a first-time user sees what is happening.
 */
export async function ensureKubeApiServer(): Promise<KubeApiServerBuild> {
  const script = spawn('bash', [buildScript()], { stdout: 'pipe', stderr: 'inherit' });
  const out: string[] = [];
  script.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => out.push(chunk));
  const result = await script.process;
  if (result.exitCode !== 0) throw new KubeApiServerBuildError(`${buildScript()} failed (exit ${String(result.exitCode)}): see its messages above`);
  return paths(out.join(''));
}

/** For `wren lab up`: the cached build, or a first build with the user watching its progress. */
export async function findKubeApiServer(progress: Progress): Promise<KubeApiServerBuild> {
  const cached = await cachedKubeApiServer();
  if (cached === undefined) progress.line('kube-apiserver is not built yet: building it once from Debian\'s source (about 3 minutes on 2 cores, then cached)');
  const build = cached ?? (await ensureKubeApiServer());
  progress.step(`kube-apiserver ${KUBE_APISERVER_VERSION} from Debian's source`);
  progress.done(cached === undefined ? `built: ${build.apiserver}` : `cached: ${build.apiserver}`);
  return build;
}

function paths(stdout: string): KubeApiServerBuild {
  const bin = stdout.trim().split('\n').pop() ?? '';
  return { apiserver: join(bin, 'kube-apiserver'), kubectl: join(bin, 'kubectl') };
}
