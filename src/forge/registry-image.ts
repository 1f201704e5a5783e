import { addonItem, type AddonImage } from './addons.js';
import type { ForgeItem } from './types.js';

/**
 * distribution's registry, the image `k3d registry create` starts (k3d v5.9.0
 * pkg/types/images.go: DefaultRegistryImageRepo docker.io/library/registry, tag "2"), forged like
 * the add-ons: one static binary from its Go module in an otherwise empty image.
 *
 * v3.0.0 is built although the tag says 2: the proxy serves v3.0.0 (v3.0.1 is refused) and the
 * last v2 line lives on as a +incompatible module. The layout is registry:2's, which k3d and users'
 * volume mounts expect: the config at /etc/docker/registry/config.yml, `registry serve` on :5000
 * (k3d sets REGISTRY_HTTP_ADDR to its port), blobs in the /var/lib/registry volume.
 */
export const REGISTRY_VERSION = 'v3.0.0';
export const REGISTRY_IMAGE = 'registry:2';

/** cmd/registry/config-dev.yml of v3.0.0 without its debug listener (:5001) and debug log level. */
const REGISTRY_CONFIG = `version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;

export const registryImage: AddonImage = {
  name: 'registry',
  tag: REGISTRY_IMAGE,
  build: {
    name: 'registry',
    module: 'github.com/distribution/distribution/v3',
    version: REGISTRY_VERSION,
    pkg: './cmd/registry',
    // As its Makefile: version.version and version.mainpkg (revision is the release tag's commit).
    ldflags: [
      `github.com/distribution/distribution/v3/version.version=${REGISTRY_VERSION}`,
      'github.com/distribution/distribution/v3/version.mainpkg=github.com/distribution/distribution/v3',
    ],
  },
  binaryPath: '/bin/registry',
  files: [{ path: '/etc/docker/registry/config.yml', source: { text: REGISTRY_CONFIG }, mode: 0o644 }],
  changes: ['VOLUME ["/var/lib/registry"]', 'EXPOSE 5000', 'ENTRYPOINT ["/bin/registry"]', 'CMD ["serve", "/etc/docker/registry/config.yml"]'],
  versionArgs: ['--version'],
  estimateSeconds: 300,
};

export const registryImageItem = (): ForgeItem => addonItem(registryImage);
