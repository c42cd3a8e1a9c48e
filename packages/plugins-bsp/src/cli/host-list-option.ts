import { CliError } from "@metal/core/cli/errors";
import { type HostList, HostListError, loadHostList } from "../hosts/host-list.js";

/** Load --hosts for a command; every validation problem becomes one exit-2 error listing them all. */
export async function hostListFromCli(file: string): Promise<HostList> {
  try {
    return await loadHostList(file);
  } catch (err) {
    if (err instanceof HostListError) throw new CliError(err.message, 2);
    throw err;
  }
}
