package zabbix

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// agentConfigs are the Zabbix agents' configuration files whose Hostname=
// names this host in Zabbix, in the order they are read: Zabbix agent,
// then agent 2.
var agentConfigs = []string{"/etc/zabbix/zabbix_agentd.conf", "/etc/zabbix/zabbix_agent2.conf"}

// agentHostname returns the Hostname= that the first of files to set it
// gives (its Include= files read where they stand), or "".
func agentHostname(files []string) string {
	for _, f := range files {
		if h := hostnameIn(f, 0); h != "" {
			return h
		}
	}
	return ""
}

// hostnameIn returns the last Hostname= of a configuration file and the
// files it includes (a file, a directory, or a pattern), as the agent
// reads them; the first of a comma-separated list, which the agent takes
// as its host's name.
func hostnameIn(file string, depth int) string {
	f, err := os.Open(file)
	if err != nil || depth > 4 {
		return ""
	}
	defer f.Close()
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Hostname":
			name, _, _ = strings.Cut(v, ",")
			name = strings.TrimSpace(name)
		case "Include":
			if fi, err := os.Stat(v); err == nil && fi.IsDir() {
				v = filepath.Join(v, "*")
			}
			matches, _ := filepath.Glob(v)
			for _, m := range matches {
				if h := hostnameIn(m, depth+1); h != "" {
					name = h
				}
			}
		}
	}
	return name
}

// fqdn returns the fully qualified name of host as the resolver gives it
// (the name of one of its addresses that begins with host and a dot), or
// host itself.
func fqdn(host string) string {
	if strings.Contains(host, ".") {
		return host
	}
	addrs, err := net.LookupHost(host)
	if err != nil {
		return host
	}
	for _, a := range addrs {
		names, _ := net.LookupAddr(a)
		for _, n := range names {
			if n = strings.TrimSuffix(n, "."); strings.HasPrefix(n, host+".") {
				return n
			}
		}
	}
	return host
}
