#!/usr/bin/env bash
# A one-node Slurm on this machine, for the rank tests (test/ranks/slurm.test.ts) in CI: installs Debian's
# slurm-wlm and munge when missing, then starts munged, slurmctld and slurmd as root without systemd or
# cgroups (proctrack/linuxproc, task/none). Safe to run twice: a running cluster is left as it is.
# Needs root. Usage: bash scripts/slurm-local.sh   (then: srun -n 4 --overcommit hostname)
set -euo pipefail

if [ "$(id -u)" != 0 ]; then echo "slurm-local: needs root (it installs packages and starts daemons)" >&2; exit 1; fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-local: installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  echo "slurm-local: a cluster is already up"; sinfo; exit 0
fi

# munge: a key readable by the munge user only, and its daemon.
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
if ! pgrep -u munge -x munged >/dev/null; then runuser -u munge -- /usr/sbin/munged; fi
munge -n | unmunge >/dev/null

# slurm.conf: this host as controller and only node, its hardware line from `slurmd -C`.
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=local
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
${node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF
# Slurm reads a cgroup.conf when present; none is needed with these plugins.
rm -f /etc/slurm/cgroup.conf

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then sinfo; exit 0; fi
  scontrol update nodename="${host}" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "slurm-local: the node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
