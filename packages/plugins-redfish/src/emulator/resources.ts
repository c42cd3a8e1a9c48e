import type { EmulatedMachine } from "./machine.js";
import type { EmulatedSensor, EmulatorProfile } from "./profile.js";

/** The JSON documents of the emulated Redfish tree, built from the profile and the machine's current state. */
export class RedfishTree {
  readonly root = "/redfish/v1";
  constructor(
    private readonly p: EmulatorProfile,
    private readonly m: EmulatedMachine,
  ) {}

  get systemPath(): string {
    return `${this.root}/Systems/${this.p.systemId}`;
  }
  get chassisPath(): string {
    return `${this.root}/Chassis/${this.p.chassisId}`;
  }
  get managerPath(): string {
    return `${this.root}/Managers/${this.p.managerId}`;
  }
  get virtualMediaCollection(): string {
    return `${this.p.quirks.virtualMediaUnderSystem ? this.systemPath : this.managerPath}/VirtualMedia`;
  }
  get cdPath(): string {
    return `${this.virtualMediaCollection}/CD1`;
  }
  get resetTarget(): string {
    return `${this.systemPath}/Actions/ComputerSystem.Reset`;
  }
  get resetActionInfo(): string {
    return `${this.systemPath}/ResetActionInfo`;
  }
  get bootSettingsPath(): string {
    return `${this.systemPath}/SD`;
  }

  serviceRoot(): object {
    const r = this.root;
    return {
      "@odata.id": `${r}/`,
      "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
      Id: "RootService",
      Name: "Root Service",
      RedfishVersion: this.p.redfishVersion,
      UUID: "92384634-2938-2342-8820-489239905423",
      Systems: { "@odata.id": `${r}/Systems` },
      Chassis: { "@odata.id": `${r}/Chassis` },
      Managers: { "@odata.id": `${r}/Managers` },
      AccountService: { "@odata.id": `${r}/AccountService` },
      EventService: { "@odata.id": `${r}/EventService` },
      UpdateService: { "@odata.id": `${r}/UpdateService` },
      // The ServiceRoot property that links the TaskService is named "Tasks" (ServiceRoot schema).
      Tasks: { "@odata.id": `${r}/TaskService` },
      ...(this.p.quirks.noSessions
        ? {}
        : { SessionService: { "@odata.id": `${r}/SessionService` }, Links: { Sessions: { "@odata.id": `${r}/SessionService/Sessions` } } }),
    };
  }

  collection(path: string, name: string, members: string[]): object {
    return {
      "@odata.id": path,
      "@odata.type": `#${name}Collection.${name}Collection`,
      Name: `${name} Collection`,
      Members: members.map((m) => ({ "@odata.id": m })),
      "Members@odata.count": members.length,
    };
  }

  system(): object {
    const q = this.p.quirks;
    const boot: Record<string, unknown> = {
      BootSourceOverrideEnabled: this.m.boot.enabled,
      BootSourceOverrideTarget: this.m.boot.target,
      "BootSourceOverrideTarget@Redfish.AllowableValues": this.p.bootTargets,
    };
    if (!q.noBootMode) boot.BootSourceOverrideMode = this.m.boot.mode;
    const reset: Record<string, unknown> = { target: this.resetTarget };
    if (q.resetActionInfo) reset["@Redfish.ActionInfo"] = this.resetActionInfo;
    else reset["ResetType@Redfish.AllowableValues"] = this.p.resetTypes;
    return {
      "@odata.id": this.systemPath,
      "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
      Id: this.p.systemId,
      Name: "System",
      SystemType: "Physical",
      Manufacturer: this.p.manufacturer,
      ...(this.p.model ? { Model: this.p.model } : {}),
      SerialNumber: this.p.serial,
      PartNumber: this.p.partNumber,
      BiosVersion: this.p.biosVersion,
      PowerState: this.reportedPower(),
      Status: { State: "Enabled", Health: "OK" },
      Boot: boot,
      ...(q.bootSettingsObject ? { "@Redfish.Settings": { SettingsObject: { "@odata.id": this.bootSettingsPath } } } : {}),
      ...(q.virtualMediaUnderSystem ? { VirtualMedia: { "@odata.id": this.virtualMediaCollection } } : {}),
      Actions: { "#ComputerSystem.Reset": reset },
      ProcessorSummary: { Count: this.p.processors.length, Model: this.p.processors[0]?.model ?? "", Status: { State: "Enabled", Health: "OK" } },
      Processors: { "@odata.id": `${this.systemPath}/Processors` },
      SimpleStorage: { "@odata.id": `${this.systemPath}/SimpleStorage` },
      EthernetInterfaces: { "@odata.id": `${this.systemPath}/EthernetInterfaces` },
      Bios: { "@odata.id": `${this.systemPath}/Bios` },
      SecureBoot: { "@odata.id": `${this.systemPath}/SecureBoot` },
      Links: { Chassis: [{ "@odata.id": this.chassisPath }], ManagedBy: [{ "@odata.id": this.managerPath }] },
    };
  }

  /** The machine's power state, or what the powerStateAs fault knob makes the BMC say instead. */
  reportedPower(): string | null {
    const as = this.p.faults.powerStateAs;
    return as === "" ? this.m.power : as === "null" ? null : as;
  }

  bootSettings(): object {
    return { "@odata.id": this.bootSettingsPath, Id: "SD", Name: "Pending boot settings", Boot: this.m.pendingBoot ?? {} };
  }

  actionInfo(): object {
    return {
      "@odata.id": this.resetActionInfo,
      "@odata.type": "#ActionInfo.v1_1_2.ActionInfo",
      Id: "ResetActionInfo",
      Parameters: [{ Name: "ResetType", Required: true, DataType: "String", AllowableValues: this.p.resetTypes }],
    };
  }

  chassis(): object {
    return {
      "@odata.id": this.chassisPath,
      "@odata.type": "#Chassis.v1_14_0.Chassis",
      Id: this.p.chassisId,
      Name: "Chassis",
      ChassisType: "RackMount",
      Manufacturer: this.p.manufacturer,
      ...(this.p.model ? { Model: this.p.model } : {}),
      SerialNumber: this.p.serial,
      PowerState: this.reportedPower(),
      Thermal: { "@odata.id": `${this.chassisPath}/Thermal` },
      Power: { "@odata.id": `${this.chassisPath}/Power` },
      Sensors: { "@odata.id": `${this.chassisPath}/Sensors` },
      Links: { ComputerSystems: [{ "@odata.id": this.systemPath }], ManagedBy: [{ "@odata.id": this.managerPath }] },
    };
  }

  private status(s: EmulatedSensor) {
    return s.health === "Absent" ? { State: "Absent" } : { State: "Enabled", Health: s.health };
  }

  private thresholdsOld(s: EmulatedSensor): Record<string, number> {
    const t = s.thresholds ?? {};
    const out: Record<string, number> = {};
    if (t.lowerCritical !== undefined) out.LowerThresholdCritical = t.lowerCritical;
    if (t.upperNonCritical !== undefined) out.UpperThresholdNonCritical = t.upperNonCritical;
    if (t.upperCritical !== undefined) out.UpperThresholdCritical = t.upperCritical;
    if (t.upperFatal !== undefined) out.UpperThresholdFatal = t.upperFatal;
    return out;
  }

  thermal(): object {
    const path = `${this.chassisPath}/Thermal`;
    const sensors = this.m.sensors;
    return {
      "@odata.id": path,
      "@odata.type": "#Thermal.v1_7_0.Thermal",
      Id: "Thermal",
      Name: "Thermal",
      Temperatures: sensors
        .filter((s) => s.kind === "temperature")
        .map((s, i) => ({
          "@odata.id": `${path}#/Temperatures/${i}`,
          MemberId: String(i),
          Name: s.name,
          ReadingCelsius: s.reading,
          Status: this.status(s),
          ...this.thresholdsOld(s),
        })),
      Fans: sensors
        .filter((s) => s.kind === "fan")
        .map((s, i) => ({
          "@odata.id": `${path}#/Fans/${i}`,
          MemberId: String(i),
          Name: s.name,
          Reading: s.reading,
          ReadingUnits: "RPM",
          Status: this.status(s),
          ...this.thresholdsOld(s),
        })),
    };
  }

  power(): object {
    const path = `${this.chassisPath}/Power`;
    const sensors = this.m.sensors;
    const watts = sensors.filter((s) => s.kind === "power");
    return {
      "@odata.id": path,
      "@odata.type": "#Power.v1_6_0.Power",
      Id: "Power",
      Name: "Power",
      Voltages: sensors
        .filter((s) => s.kind === "voltage")
        .map((s, i) => ({
          "@odata.id": `${path}#/Voltages/${i}`,
          MemberId: String(i),
          Name: s.name,
          ReadingVolts: s.reading,
          Status: this.status(s),
          ...this.thresholdsOld(s),
        })),
      PowerControl: watts.map((s, i) => ({
        "@odata.id": `${path}#/PowerControl/${i}`,
        MemberId: String(i),
        Name: s.name,
        PowerConsumedWatts: s.reading,
        Status: this.status(s),
      })),
      PowerSupplies: [
        { "@odata.id": `${path}#/PowerSupplies/0`, MemberId: "0", Name: "PS1", Status: { State: "Enabled", Health: "OK" }, LineInputVoltage: 230 },
      ],
    };
  }

  sensorId(s: EmulatedSensor): string {
    return s.name.replace(/[^A-Za-z0-9]/g, "");
  }

  sensorCollection(): object {
    const path = `${this.chassisPath}/Sensors`;
    return this.collection(
      path,
      "Sensor",
      this.m.sensors.map((s) => `${path}/${this.sensorId(s)}`),
    );
  }

  sensor(id: string): object | undefined {
    const s = this.m.sensors.find((x) => this.sensorId(x) === id);
    if (!s) return undefined;
    const t = s.thresholds ?? {};
    const th: Record<string, { Reading: number }> = {};
    if (t.lowerCritical !== undefined) th.LowerCritical = { Reading: t.lowerCritical };
    if (t.upperNonCritical !== undefined) th.UpperCaution = { Reading: t.upperNonCritical };
    if (t.upperCritical !== undefined) th.UpperCritical = { Reading: t.upperCritical };
    if (t.upperFatal !== undefined) th.UpperFatal = { Reading: t.upperFatal };
    const kinds = { temperature: ["Temperature", "Cel"], fan: ["Rotational", "RPM"], voltage: ["Voltage", "V"], power: ["Power", "W"] } as const;
    const [type, units] = kinds[s.kind];
    return {
      "@odata.id": `${this.chassisPath}/Sensors/${id}`,
      "@odata.type": "#Sensor.v1_2_0.Sensor",
      Id: id,
      Name: s.name,
      Reading: s.reading,
      ReadingType: type,
      ReadingUnits: units,
      Status: this.status(s),
      Thresholds: th,
    };
  }

  manager(): object {
    return {
      "@odata.id": this.managerPath,
      "@odata.type": "#Manager.v1_10_0.Manager",
      Id: this.p.managerId,
      Name: "Manager",
      ManagerType: "BMC",
      FirmwareVersion: this.p.bmcFirmware,
      Status: { State: "Enabled", Health: "OK" },
      ...(this.p.quirks.virtualMediaUnderSystem ? {} : { VirtualMedia: { "@odata.id": this.virtualMediaCollection } }),
      Links: { ManagerForServers: [{ "@odata.id": this.systemPath }], ManagerForChassis: [{ "@odata.id": this.chassisPath }] },
    };
  }

  virtualMedia(): object {
    return {
      "@odata.id": this.cdPath,
      "@odata.type": "#VirtualMedia.v1_3_0.VirtualMedia",
      Id: "CD1",
      Name: "Virtual CD",
      MediaTypes: ["CD", "DVD"],
      Image: this.m.media.image,
      ImageName: this.m.media.image ? this.m.media.image.split("/").pop() : null,
      Inserted: this.m.media.inserted,
      WriteProtected: true,
      ConnectedVia: this.m.media.inserted ? "URI" : "NotConnected",
      TransferProtocolType: this.m.media.inserted ? this.m.mediaProtocol : null,
      ...(this.p.quirks.virtualMediaPatchOnly
        ? {}
        : {
            Actions: {
              "#VirtualMedia.InsertMedia": { target: `${this.cdPath}/Actions/VirtualMedia.InsertMedia` },
              "#VirtualMedia.EjectMedia": { target: `${this.cdPath}/Actions/VirtualMedia.EjectMedia` },
            },
          }),
    };
  }

  sessionService(): object {
    return {
      "@odata.id": `${this.root}/SessionService`,
      "@odata.type": "#SessionService.v1_1_8.SessionService",
      Id: "SessionService",
      Name: "Session Service",
      ServiceEnabled: true,
      SessionTimeout: this.p.faults.sessionTimeoutS,
      Sessions: { "@odata.id": `${this.root}/SessionService/Sessions` },
    };
  }

  accountService(): object {
    return {
      "@odata.id": `${this.root}/AccountService`,
      "@odata.type": "#AccountService.v1_10_0.AccountService",
      Id: "AccountService",
      Name: "Account Service",
      ServiceEnabled: true,
      Accounts: { "@odata.id": `${this.root}/AccountService/Accounts` },
      Roles: { "@odata.id": `${this.root}/AccountService/Roles` },
    };
  }

  account(): object {
    return {
      "@odata.id": `${this.root}/AccountService/Accounts/1`,
      "@odata.type": "#ManagerAccount.v1_7_0.ManagerAccount",
      Id: "1",
      UserName: this.p.username,
      Name: "User Account",
      Description: "The emulator's one account",
      AccountTypes: ["Redfish"],
      Password: null,
      RoleId: "Administrator",
      Enabled: true,
      Locked: false,
      Links: { Role: { "@odata.id": `${this.root}/AccountService/Roles/Administrator` } },
    };
  }

  /** The predefined roles of the Redfish Privilege Registry. */
  static readonly ROLES: Record<string, string[]> = {
    Administrator: ["Login", "ConfigureManager", "ConfigureUsers", "ConfigureSelf", "ConfigureComponents"],
    Operator: ["Login", "ConfigureSelf", "ConfigureComponents"],
    ReadOnly: ["Login", "ConfigureSelf"],
  };

  role(id: string): object | undefined {
    const privileges = RedfishTree.ROLES[id];
    if (!privileges) return undefined;
    return {
      "@odata.id": `${this.root}/AccountService/Roles/${id}`,
      "@odata.type": "#Role.v1_3_1.Role",
      Id: id,
      Name: `${id} Role`,
      RoleId: id,
      IsPredefined: true,
      AssignedPrivileges: privileges,
    };
  }

  processor(i: number): object | undefined {
    const c = this.p.processors[i];
    if (!c) return undefined;
    const id = `CPU${i + 1}`;
    return {
      "@odata.id": `${this.systemPath}/Processors/${id}`,
      "@odata.type": "#Processor.v1_11_0.Processor",
      Id: id,
      Name: "Processor",
      Socket: id,
      ProcessorType: "CPU",
      ProcessorArchitecture: "x86",
      InstructionSet: "x86-64",
      Manufacturer: this.p.manufacturer,
      Model: c.model,
      TotalCores: c.cores,
      TotalThreads: c.threads,
      Status: { State: "Enabled", Health: "OK" },
    };
  }

  simpleStorage(): object {
    return {
      "@odata.id": `${this.systemPath}/SimpleStorage/1`,
      "@odata.type": "#SimpleStorage.v1_3_0.SimpleStorage",
      Id: "1",
      Name: "Simple Storage Controller",
      UefiDevicePath: "PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x0,0xFFFF,0x0)",
      Devices: this.p.disks.map((d) => ({ Name: d.name, CapacityBytes: d.capacityBytes, Status: { State: "Enabled", Health: "OK" } })),
      Status: { State: "Enabled", Health: "OK" },
    };
  }

  ethernetInterface(i: number): object | undefined {
    const n = this.p.nics[i];
    if (!n) return undefined;
    const id = String(i + 1);
    return {
      "@odata.id": `${this.systemPath}/EthernetInterfaces/${id}`,
      "@odata.type": "#EthernetInterface.v1_6_0.EthernetInterface",
      Id: id,
      Name: `Ethernet Interface ${id}`,
      MACAddress: n.mac,
      PermanentMACAddress: n.mac,
      SpeedMbps: n.speedMbps,
      LinkStatus: "LinkUp",
      Status: { State: "Enabled", Health: "OK" },
    };
  }

  bios(): object {
    return {
      "@odata.id": `${this.systemPath}/Bios`,
      "@odata.type": "#Bios.v1_1_0.Bios",
      Id: "BIOS",
      Name: "BIOS Configuration",
      AttributeRegistry: "BiosAttributeRegistry.v1_0_0",
      Attributes: { BootMode: this.m.boot.mode === "UEFI" ? "Uefi" : "Bios", ProcTurboMode: "Enabled", SriovGlobalEnable: "Disabled" },
      Actions: {
        "#Bios.ResetBios": { target: `${this.systemPath}/Bios/Actions/Bios.ResetBios` },
        "#Bios.ChangePassword": { target: `${this.systemPath}/Bios/Actions/Bios.ChangePassword` },
      },
    };
  }

  secureBoot(): object {
    return {
      "@odata.id": `${this.systemPath}/SecureBoot`,
      "@odata.type": "#SecureBoot.v1_1_0.SecureBoot",
      Id: "SecureBoot",
      Name: "UEFI Secure Boot",
      SecureBootEnable: this.m.secureBoot,
      SecureBootCurrentBoot: this.m.secureBoot ? "Enabled" : "Disabled",
      SecureBootMode: "DeployedMode",
    };
  }

  updateService(): object {
    return {
      "@odata.id": `${this.root}/UpdateService`,
      "@odata.type": "#UpdateService.v1_8_0.UpdateService",
      Id: "UpdateService",
      Name: "Update Service",
      ServiceEnabled: false,
      Status: { State: "Disabled", Health: "OK" },
      FirmwareInventory: { "@odata.id": `${this.root}/UpdateService/FirmwareInventory` },
      Actions: { "#UpdateService.SimpleUpdate": { target: `${this.root}/UpdateService/Actions/UpdateService.SimpleUpdate` } },
    };
  }

  firmware(id: string): object | undefined {
    const items: Record<string, [string, string]> = { BMC: ["BMC Firmware", this.p.bmcFirmware], BIOS: ["System BIOS", this.p.biosVersion] };
    const item = items[id];
    if (!item) return undefined;
    return {
      "@odata.id": `${this.root}/UpdateService/FirmwareInventory/${id}`,
      "@odata.type": "#SoftwareInventory.v1_3_0.SoftwareInventory",
      Id: id,
      Name: item[0],
      Version: item[1],
      Updateable: false,
      Status: { State: "Enabled", Health: "OK" },
    };
  }

  taskService(): object {
    return {
      "@odata.id": `${this.root}/TaskService`,
      "@odata.type": "#TaskService.v1_1_5.TaskService",
      Id: "TaskService",
      Name: "Task Service",
      ServiceEnabled: true,
      DateTime: new Date().toISOString(),
      CompletedTaskOverWritePolicy: "Oldest",
      LifeCycleEventOnTaskStateChange: true,
      Status: { State: "Enabled", Health: "OK" },
      Tasks: { "@odata.id": `${this.root}/TaskService/Tasks` },
    };
  }
}
