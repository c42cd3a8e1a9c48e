/** Node personalities of the reference: node type masks CONTROLLER 0x1, WORKER 0x2, STORAGE 0x4. */
export type PersonalityName = "controller" | "worker" | "storage" | "aio";
export type ServiceFunction = "controller" | "worker" | "storage";
export type SystemType = "standard" | "aio-sx" | "aio-dx";

export const NODE_TYPE_MASK: Readonly<Record<ServiceFunction, number>> = {
  controller: 0x1,
  worker: 0x2,
  storage: 0x4,
};

export interface HostProfile {
  readonly hostname: string;
  /** The subfunctions string split, e.g. ["controller", "worker"] for an AIO controller. */
  readonly subfunctions: readonly ServiceFunction[];
  readonly systemType: SystemType;
}

/**
 * What differs per personality. The core picks the first registered hook whose `matches` is true;
 * plugins may register hooks of their own ahead of the built-in ones.
 */
export interface PersonalityHooks {
  readonly name: PersonalityName;
  matches(host: HostProfile): boolean;
  /** The `services.d/<function>` directories whose start scripts run, in order. */
  hostServiceFunctions(host: HostProfile): readonly ServiceFunction[];
  /** True when a separate subfunction goenabled pass is needed (AIO controllers). */
  hasSubfunctionEnable(host: HostProfile): boolean;
  /** Boot timeout in seconds for the enable handler's mtcAlive wait. */
  bootTimeoutSeconds(host: HostProfile): number;
  /** Extra seconds the disable handler waits before the host counts as locked (storage: ceph). */
  lockDelaySeconds(host: HostProfile): number;
  /** Cluster-host heartbeat loss only degrades (standard-system controllers). */
  clusterHostDegradeOnly(host: HostProfile): boolean;
}

export interface PersonalityRegistry {
  register(hooks: PersonalityHooks, pluginName: string): void;
  /** The hooks for a host; throws when none matches. */
  forHost(host: HostProfile): PersonalityHooks;
  list(): ReadonlyArray<{ name: PersonalityName; plugin: string }>;
}
