export const HELP: Record<string, string> = {
  main: `porter - load balancer for bare-metal Kubernetes and hosts (BGP VIPs with ECMP)

Usage: porter <command> [flags]

Commands:
  controller   run the BGP speaker: announce VIPs to the configured peers
  agent        program this node's kernel so it accepts traffic for its VIPs
  status       show a running porter's peers, VIPs and agent state
  validate     check a config file and print a summary
  version      print version, git commit and Node version

Run "porter <command> --help" for a command's flags.
Config: --config FILE, else $PORTER_CONFIG, else /etc/porter/porter.yaml.
Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.`,
  version: `Usage: porter version [--json]

Print Porter's version, the git commit it was built from and the Node.js version.`,
  validate: `Usage: porter validate [--config FILE] [--json]

Parse and validate a config file. Prints a summary, or every error as
FILE:LINE:COL: FIELD.PATH: message. Exit 0 when valid, 2 when not.`,
  controller: `Usage: porter controller [--config FILE] [--log-level LEVEL]

Run controller mode: BGP sessions to the peers in "bgp", announcing the VIPs in "vips".
SIGHUP re-reads the config (an invalid one is rejected and the running one kept);
SIGTERM/SIGINT stop gracefully within "shutdownTimeout".`,
  agent: `Usage: porter agent [--config FILE] [--log-level LEVEL] [--cleanup]

Run agent mode: put this node's VIPs on "agent.interface" and let them through the
firewall, repairing drift. --cleanup removes everything porter created and exits; it
refuses (exit 1, nothing removed) while an agent answers on the config's admin socket,
which would put everything back at once: stop the agent first.`,
  status: `Usage: porter status [--config FILE] [--socket PATH] [--json]

Ask a running porter over its admin socket (admin.socket, default /run/porter/porter.sock)
for its state and print it as tables, or as JSON with --json.`,
}
