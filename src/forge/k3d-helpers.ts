import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forgeCacheDir, packageRoot } from '../util/paths.js';
import { buildGoModule, goBuildSource, type GoBuild } from './go-build.js';
import { goBuildIdentity } from './go-tool.js';
import {
  PATH_ENV,
  busyboxFiles,
  busyboxImage,
  pauseImage,
  busyboxRootFiles,
  buildLocalGoProgram,
  cachedFile,
  klipperLbImage,
  localGoSourceHash,
  helperItem,
  identityHash,
  type HelperImage,
} from './small-images.js';
import type { ForgeItem, ForgeOptions } from './types.js';

/**
 * k3d v5.9.0's helper images, which k3d starts for every cluster and pulls when missing:
 * - k3d-tools: started with the argument `noop` (EnsureToolsNode, pkg/client/tools.go), kept
 *   running; `k3d image import` in tools-node mode execs `./k3d-tools save-image` in it (WORKDIR /app).
 * - k3d-proxy: the `@loadbalancer` in front of the nodes. nginx with the stream module; its
 *   entrypoint (`nginx-proxy`) runs confd on /etc/confd/values.yaml, which k3d writes into the
 *   container (ports: {"80.tcp": [node names]}, settings: {workerConnections}), then nginx. k3d
 *   waits for nginx's "start worker processes" line.
 */

export const K3D_HELPER_VERSION = '5.9.0';
export const K3D_TOOLS_IMAGE = `ghcr.io/k3d-io/k3d-tools:${K3D_HELPER_VERSION}`;
export const K3D_PROXY_IMAGE = `ghcr.io/k3d-io/k3d-proxy:${K3D_HELPER_VERSION}`;

// ---------------------------------------------------------------------------------------------
// k3d-tools

/**
 * k3d's tools image is built from the nested module in k3d's repository (tools/). It is not in the
 * k3d module zip (Go leaves nested modules out) and the Go module proxy does not serve it (403 for
 * github.com/k3d-io/k3d/tools at v5.9.0 and at the v5.9.0 commit's pseudo-version). kubelab's own
 * stand-in (forge/k3d-tools, standard library only) does what k3d asks of the container on a local
 * docker: `noop`, and `save-image -d DEST IMAGE...` through the mounted docker socket, which
 * `k3d image import` (default mode) needs.
 */
const busyboxPart = 'debian bookworm busybox-static in scratch';

export const k3dToolsImage: HelperImage = {
  name: 'k3d-tools image',
  tag: K3D_TOOLS_IMAGE,
  sources: `${busyboxPart} + kubelab's k3d-tools stand-in (forge/k3d-tools: noop, save-image); k3d's tools module is not served by the Go proxy`,
  estimateSeconds: 60,
  get identity() {
    return `k3d-tools stand-in ${localGoSourceHash('k3d-tools')}; ${busyboxPart}`;
  },
  async recipe(options) {
    const [busybox, tools] = await Promise.all([busyboxFiles(options), buildLocalGoProgram('k3d-tools', options)]);
    const root = busyboxRootFiles(busybox);
    return {
      repository: 'kubelab/k3d-tools',
      suite: 'bookworm',
      variant: 'scratch',
      packages: [],
      files: [...root.files, { path: '/app/k3d-tools', source: { file: tools, identity: localGoSourceHash('k3d-tools') }, mode: 0o755 }],
      symlinks: root.symlinks,
      changes: [PATH_ENV, 'WORKDIR /app', 'ENTRYPOINT ["/app/k3d-tools"]'],
    };
  },
};

// ---------------------------------------------------------------------------------------------
// k3d-proxy

/**
 * confd as k3d-proxy uses it (`-backend file`). k3d's Dockerfile downloads a release of its fork
 * (iwilltry42/confd 0.17.0-rc.0), which the Go proxy does not serve; upstream
 * kelseyhightower/confd v0.16.0 is served and has the same template functions and file backend.
 * v0.16.0 predates Go modules (dep, Gopkg.lock): the build writes a go.mod with Gopkg.lock's pins
 * and keeps only the env and file backends, so that the cloud backends' dependency trees (AWS,
 * Consul, Vault, etcd, ZooKeeper, Redis) need not be fetched. Its file backend's watch panics a few
 * seconds after start (confd's issue, which k3d's fork fixes): that function is replaced, so that
 * `confd -watch` re-renders nginx.conf when k3d rewrites values.yaml (k3d node create/delete).
 */
const CONFD_CLIENT_GO = `package backends

import (
	"errors"
	"strings"

	"github.com/kelseyhightower/confd/backends/env"
	"github.com/kelseyhightower/confd/backends/file"
	"github.com/kelseyhightower/confd/log"
)

// The StoreClient interface is implemented by objects that can retrieve
// key/value pairs from a backend store.
type StoreClient interface {
	GetValues(keys []string) (map[string]string, error)
	WatchPrefix(prefix string, keys []string, waitIndex uint64, stopChan chan bool) (uint64, error)
}

// New is used to create a storage client based on our configuration.
// kubelab build: only the env and file backends (k3d-proxy runs confd -backend file).
func New(config Config) (StoreClient, error) {
	if config.Backend == "" {
		config.Backend = "etcd"
	}
	if config.Backend == "file" {
		log.Info("Backend source(s) set to " + strings.Join(config.YAMLFile, ", "))
	} else {
		log.Info("Backend source(s) set to " + strings.Join(config.BackendNodes, ", "))
	}
	switch config.Backend {
	case "env":
		return env.NewEnvClient()
	case "file":
		return file.NewFileClient(config.YAMLFile, config.Filter)
	}
	return nil, errors.New("Invalid backend: this confd build has only the env and file backends")
}
`;

/** Gopkg.lock's versions (pseudo-version of crypt's pinned revision; x/ modules at served tags). */
const CONFD_GO_MOD = `module github.com/kelseyhightower/confd

go 1.20

require (
	github.com/BurntSushi/toml v0.3.0
	github.com/fsnotify/fsnotify v1.4.7
	github.com/kelseyhightower/memkv v0.1.1
	github.com/sirupsen/logrus v1.0.5
	github.com/xordataexchange/crypt v0.0.3-0.20170626215501-b2862e3d0a77
	golang.org/x/crypto v0.25.0
	golang.org/x/sys v0.22.0
	gopkg.in/yaml.v2 v2.2.1
)
`;

/** The file backend's watch: upstream's panics seconds after start (see the replacement's comment). */
const CONFD_WATCH_ORIGINAL = `func (c *Client) watchChanges(watcher *fsnotify.Watcher, stopChan chan bool) ResultError {
	outputChannel := make(chan ResultError)
	defer close(outputChannel)
	go func() error {
		for {
			select {
			case event := <-watcher.Events:
				log.Debug("event:", event)
				if event.Op&fsnotify.Write == fsnotify.Write ||
					event.Op&fsnotify.Remove == fsnotify.Remove ||
					event.Op&fsnotify.Create == fsnotify.Create {
					outputChannel <- ResultError{response: 1, err: nil}
				}
			case err := <-watcher.Errors:
				outputChannel <- ResultError{response: 0, err: err}
			case <-stopChan:
				outputChannel <- ResultError{response: 1, err: nil}
			}
		}
	}()
	return <-outputChannel
}`;

const CONFD_WATCH_FIXED = `func (c *Client) watchChanges(watcher *fsnotify.Watcher, stopChan chan bool) ResultError {
	// kubelab: v0.16.0 ran this loop in a goroutine that outlived the watcher and panicked
	// ("send on closed channel") on the closed watcher's events; wait in place instead.
	for {
		select {
		case event, ok := <-watcher.Events:
			if !ok {
				return ResultError{response: 0, err: fmt.Errorf("file watcher closed")}
			}
			log.Debug("event: %v", event)
			if event.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
				// Replaced (docker cp removes, then writes): wait for the new file before reading it.
				for i := 0; i < 50; i++ {
					if _, err := os.Stat(event.Name); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			if event.Op&(fsnotify.Write|fsnotify.Remove|fsnotify.Create|fsnotify.Rename) != 0 {
				return ResultError{response: 1, err: nil}
			}
		case err, ok := <-watcher.Errors:
			if !ok {
				err = fmt.Errorf("file watcher closed")
			}
			return ResultError{response: 0, err: err}
		case <-stopChan:
			return ResultError{response: 1, err: nil}
		}
	}
}

// kubelab: what GetValues last read. WatchPrefix returns at once when the files differ from it, so
// that a change made while the template was processed (or a file replaced) is not missed.
var lastContent string

func readPaths(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		data, err := ioutil.ReadFile(p)
		if err == nil {
			b.Write(data)
		}
		b.WriteByte(0)
	}
	return b.String()
}`;

/** Edits to backends/file/client.go besides watchChanges: [exact text, replacement]. */
const CONFD_FILE_EDITS: Array<[string, string]> = [
  ['import (\n\t"fmt"\n', 'import (\n\t"fmt"\n\t"os"\n\t"time"\n'],
  [
    'func (c *Client) GetValues(keys []string) (map[string]string, error) {\n',
    'func (c *Client) GetValues(keys []string) (map[string]string, error) {\n\tlastContent = readPaths(c.filepath)\n',
  ],
  [
    '\toutput := c.watchChanges(watcher, stopChan)\n',
    '\tif readPaths(c.filepath) != lastContent {\n\t\treturn waitIndex, nil\n\t}\n\toutput := c.watchChanges(watcher, stopChan)\n',
  ],
];

const CONFD_DROPPED = ['consul', 'dynamodb', 'etcd', 'etcdv3', 'rancher', 'redis', 'ssm', 'vault', 'zookeeper'];

export const confdBuild: GoBuild = {
  name: 'confd',
  module: 'github.com/kelseyhightower/confd',
  version: 'v0.16.0',
  async prepare(tree) {
    for (const backend of CONFD_DROPPED) await rm(join(tree, 'backends', backend), { recursive: true, force: true });
    await rm(join(tree, 'integration'), { recursive: true, force: true });
    await writeFile(join(tree, 'backends', 'client.go'), CONFD_CLIENT_GO);
    await writeFile(join(tree, 'go.mod'), CONFD_GO_MOD);
    const fileClient = join(tree, 'backends', 'file', 'client.go');
    let text = await readFile(fileClient, 'utf8');
    for (const [search, replace] of [[CONFD_WATCH_ORIGINAL, CONFD_WATCH_FIXED], ...CONFD_FILE_EDITS] as const) {
      if (text.split(search).length !== 2) throw new Error(`confd ${confdBuild.version}: backends/file/client.go lacks ${JSON.stringify(search.slice(0, 60))}`);
      text = text.replace(search, () => replace);
    }
    await writeFile(fileClient, text);
  },
};

const confdIdentity = `${goBuildIdentity(confdBuild)} file+env backends ${identityHash(CONFD_CLIENT_GO + CONFD_GO_MOD + CONFD_WATCH_FIXED + JSON.stringify(CONFD_FILE_EDITS)).slice(0, 12)}`;

export async function buildConfd(options: ForgeOptions = {}): Promise<string> {
  const out = join(forgeCacheDir(), `confd-${identityHash(confdIdentity).slice(0, 12)}`);
  return cachedFile(out, (temp) => buildGoModule(confdBuild, temp, forgeCacheDir(), options));
}

/** k3d's proxy files (forge/k3d-proxy, copied from k3d v5.9.0 proxy/), with their content hashes. */
export function k3dProxyFiles(): Array<{ path: string; file: string; identity: string; mode: number }> {
  const dir = join(packageRoot(), 'forge', 'k3d-proxy');
  const entries: Array<[path: string, name: string, mode: number]> = [
    ['/usr/bin/nginx-proxy', 'nginx-proxy', 0o755],
    ['/etc/confd/templates/nginx.tmpl', 'nginx.tmpl', 0o644],
    ['/etc/confd/conf.d/nginx.toml', 'nginx.toml', 0o644],
  ];
  return entries.map(([path, name, mode]) => {
    const file = join(dir, name);
    return { path, file, mode, identity: `k3d ${K3D_HELPER_VERSION} proxy/${name} sha256:${identityHash(readFileSync(file, 'utf8'))}` };
  });
}

let proxyIdentityCache: string | undefined;
function proxyIdentity(): string {
  proxyIdentityCache ??= [
    'debian bookworm minbase nginx-light libnginx-mod-stream',
    confdIdentity,
    ...k3dProxyFiles().map((f) => f.identity),
    'entrypoint nginx-proxy',
  ].join('; ');
  return proxyIdentityCache;
}

export const k3dProxyImage: HelperImage = {
  name: 'k3d-proxy image',
  tag: K3D_PROXY_IMAGE,
  sources: `debian bookworm nginx-light + libnginx-mod-stream, ${goBuildSource(confdBuild)} (file backend), k3d v${K3D_HELPER_VERSION} proxy/ template and entrypoint`,
  estimateSeconds: 120,
  get identity() {
    return proxyIdentity();
  },
  async recipe(options) {
    const confd = await buildConfd(options);
    return {
      repository: 'kubelab/k3d-proxy',
      suite: 'bookworm',
      variant: 'minbase',
      packages: ['nginx-light', 'libnginx-mod-stream'],
      files: [
        { path: '/usr/local/bin/confd', source: { file: confd, identity: confdIdentity }, mode: 0o755 },
        ...k3dProxyFiles().map((f) => ({ path: f.path, source: { file: f.file, identity: f.identity }, mode: f.mode })),
      ],
      // As k3d's Dockerfile: ENTRYPOINT nginx-proxy (shell form).
      changes: [PATH_ENV, 'ENTRYPOINT ["/bin/sh","-c","nginx-proxy"]'],
    };
  },
};

export const k3dToolsImageItem = (): ForgeItem => helperItem(k3dToolsImage);
export const k3dProxyImageItem = (): ForgeItem => helperItem(k3dProxyImage);

/** The helper images k3s and k3d run, smallest first (tools and busybox share the busybox binary). */
export function helperImageItems(): ForgeItem[] {
  return [helperItem(pauseImage), helperItem(busyboxImage), helperItem(klipperLbImage), k3dToolsImageItem(), k3dProxyImageItem()];
}
