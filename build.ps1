#!/usr/bin/env pwsh
# SmartGrid.Actors build entry point. ./build.sh forwards here; see README.md.
#   run                      services up, then the whole system on one node (all roles, simulator on)
#   test                     services up, then the full test suite; ends with "tests: N passed, N failed"
#   bench kafka|pipeline|recovery|scale|meter-buckets|alerts|alert-quality|escalation|redis-outage|revocation|meters|generator|faults  benchmarks that print their figures
#   services up|down|status  PostgreSQL 15 and Redis from Debian packages, data under .data/
#   kafka                    a standalone embedded Kafka broker for multi-process runs
#   cluster up|down|status   a local 3-node cluster (gateway+ingest, processor+services, processor+simulator) on one broker, under .data/cluster/
#   cmd -- <command>         smartgrid-cmd against a node (--host 127.0.0.1:9110); no command: interactive prompt

# No param() block: a declared parameter makes this an advanced script, whose common parameters would take the
# tool's and the node's options (-o json: "ambiguous, -OutVariable or -OutBuffer").
$Target = if ($args.Count -gt 0) { [string]$args[0] } else { 'help' }
$Rest = [string[]]@($args | Select-Object -Skip 1)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot

# Even so, PowerShell reads '--SmartGrid:Simulator:Meters=50000' as its '-Name:value' syntax and hands on
# '--SmartGrid' and 'Simulator:Meters=50000': the node would never see the setting. The process's command line
# still holds the words as typed, after this script's path (pwsh -File ./build.ps1 ...): take them from there.
# Called from a PowerShell session instead ('& ./build.ps1 ...'), the script is not on it: $args stand.
$argv = [Environment]::GetCommandLineArgs()
for ($i = 1; $i -lt $argv.Count; $i++) {
    $isScript = try { [IO.Path]::GetFullPath($argv[$i]) -eq $PSCommandPath } catch { $false }
    if ($isScript) {
        $Target = if ($i + 1 -lt $argv.Count) { $argv[$i + 1] } else { 'help' }
        # Typed, so that a single word stays an array (an if-expression unrolls it to a string).
        [string[]]$Rest = if ($i + 2 -lt $argv.Count) { $argv[($i + 2)..($argv.Count - 1)] } else { @() }
        break
    }
}
$DataDir = Join-Path $Root '.data'
$PgPort = if ($env:SMARTGRID_PG_PORT) { [int]$env:SMARTGRID_PG_PORT } else { 5432 }
$RedisPort = if ($env:SMARTGRID_REDIS_PORT) { [int]$env:SMARTGRID_REDIS_PORT } else { 6379 }
# SMARTGRID_DATABASE names another database on the same server (a test's own run, a second checkout).
$Database = if ($env:SMARTGRID_DATABASE) { $env:SMARTGRID_DATABASE } else { 'smartgrid' }

function Fail([string]$Message) {
    [Console]::Error.WriteLine("build: $Message")
    exit 1
}

function Invoke-Native([string]$File, [string[]]$Arguments, [switch]$Quiet) {
    if ($Quiet) { & $File @Arguments *> $null } else { & $File @Arguments | Out-Host }
    return $LASTEXITCODE
}

function Test-Root { return ((& id -u) -eq '0') }

# Debian packages are installed on demand, so a fresh machine needs nothing but the .NET SDK.
$script:AptUpdated = $false
function Install-DebianPackages([string[]]$Packages, [string]$Why) {
    $missing = @($Packages | Where-Object { -not ((& dpkg-query -W '-f=${Status}' $_ 2>$null) -match 'install ok installed') })
    if ($missing.Count -eq 0) { return }
    $sudo = $null
    if (-not (Test-Root)) {
        if (-not (Get-Command sudo -ErrorAction SilentlyContinue)) {
            Fail "$Why needs the Debian packages $($missing -join ', '): run 'sudo apt-get install -y $($missing -join ' ')' (not root and no sudo here)"
        }
        $sudo = 'sudo'
    }
    Write-Host "build: installing $($missing -join ', ') ($Why)"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    # As root apt-get runs directly; otherwise through sudo. '& @()' is not a command, hence two calls.
    function Invoke-Apt([string[]]$AptArgs) {
        if ($sudo) { & $sudo apt-get @AptArgs } else { & apt-get @AptArgs }
    }
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    if (-not $script:AptUpdated) {
        Invoke-Apt @('update', '-qq') *> $null
        $script:AptUpdated = $true
    }
    Invoke-Apt (@('install', '-y', '-qq', '--no-install-recommends') + $missing) *> (Join-Path $DataDir 'apt.log')
    if ($LASTEXITCODE -ne 0) { Fail "apt-get install $($missing -join ' ') failed: see .data/apt.log" }
    # Debian's postgresql package creates and starts a 'main' cluster on 5432; ours replaces it.
    if ($missing -contains 'postgresql-15' -and (Get-Command pg_ctlcluster -ErrorAction SilentlyContinue)) {
        if ($sudo) { & $sudo pg_ctlcluster 15 main stop *> $null } else { & pg_ctlcluster 15 main stop *> $null }
    }
}

function Find-PgBin {
    $dirs = @(Get-ChildItem '/usr/lib/postgresql' -Directory -ErrorAction SilentlyContinue | Sort-Object { [int]$_.Name } -Descending)
    foreach ($d in $dirs) {
        $bin = Join-Path $d.FullName 'bin'
        if (Test-Path (Join-Path $bin 'pg_ctl')) { return $bin }
    }
    return $null
}

# PostgreSQL refuses to run as root, so its files belong to the postgres OS user. A checkout
# under a private directory (mktemp -d) is not reachable by that user: then the data lives in
# /var/tmp and .data/pg points at it.
function Get-PgDataDir {
    $local = Join-Path $DataDir 'pg'
    if (-not (Test-Root)) { return $local }
    if (Test-Path $local) { return (Get-Item $local).ResolveLinkTarget($true)?.FullName ?? $local }
    New-Item -ItemType Directory -Force -Path $local | Out-Null
    & chown postgres:postgres $local
    if ((Invoke-Native 'runuser' @('-u', 'postgres', '--', 'test', '-w', $local) -Quiet) -eq 0) { return $local }
    Remove-Item $local -Force
    $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($Root))).Substring(0, 12)
    $shared = "/var/tmp/smartgrid-$hash/pg"
    New-Item -ItemType Directory -Force -Path $shared | Out-Null
    & chmod 755 (Split-Path $shared)
    New-Item -ItemType SymbolicLink -Path $local -Target $shared | Out-Null
    return $shared
}

function Invoke-AsPostgres([string]$File, [string[]]$Arguments) {
    $log = Join-Path $DataDir 'postgres-admin.log'
    if (Test-Root) { & runuser -u postgres -- $File @Arguments *>> $log } else { & $File @Arguments *>> $log }
    return $LASTEXITCODE
}

function Start-Postgres {
    Install-DebianPackages @('postgresql-15', 'postgresql-client-15') 'PostgreSQL'
    $bin = Find-PgBin
    if (-not $bin) { Fail 'PostgreSQL binaries not found under /usr/lib/postgresql: apt-get install postgresql-15' }
    $pgData = Get-PgDataDir
    $sock = Join-Path $pgData 'sock'
    if (Test-Root) { & chown postgres:postgres $pgData }
    if (-not (Test-Path (Join-Path $pgData 'db/PG_VERSION'))) {
        $init = Invoke-AsPostgres (Join-Path $bin 'initdb') @('-D', (Join-Path $pgData 'db'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale')
        if ($init -ne 0) { Fail "initdb failed for $pgData/db: see .data/postgres-admin.log" }
    }
    if (-not (Test-Path $sock)) {
        New-Item -ItemType Directory -Force -Path $sock | Out-Null
        if (Test-Root) { & chown postgres:postgres $sock }
    }
    $ready = Invoke-Native (Join-Path $bin 'pg_isready') @('-h', '127.0.0.1', '-p', "$PgPort", '-q') -Quiet
    if ($ready -ne 0) {
        # Tuned for a throwaway development instance: durability off is not on the table, since
        # the crash tests rely on fsync'd commits; only sizes and connection limits are raised.
        $opts = "-p $PgPort -k $sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c synchronous_commit=on -c wal_level=minimal -c max_wal_senders=0"
        $rc = Invoke-AsPostgres (Join-Path $bin 'pg_ctl') @('-D', (Join-Path $pgData 'db'), '-l', (Join-Path $pgData 'postgres.log'), '-o', $opts, '-w', '-t', '60', 'start')
        if ($rc -ne 0) { Fail "PostgreSQL did not start on 127.0.0.1:${PgPort}: see $pgData/postgres.log (is the port taken? set SMARTGRID_PG_PORT)" }
    }
    $exists = & (Join-Path $bin 'psql') -h 127.0.0.1 -p $PgPort -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$Database'"
    if ($exists -ne '1') {
        & (Join-Path $bin 'psql') -h 127.0.0.1 -p $PgPort -U postgres -qc "CREATE DATABASE $Database" | Out-Null
        if ($LASTEXITCODE -ne 0) { Fail "could not create database $Database on 127.0.0.1:$PgPort" }
    }
    Write-Host "build: PostgreSQL up on 127.0.0.1:$PgPort (database $Database, data $pgData)"
}

function Stop-Postgres {
    $bin = Find-PgBin
    $db = Join-Path (Join-Path $DataDir 'pg') 'db'
    if ($bin -and (Test-Path (Join-Path $db 'postmaster.pid'))) {
        Invoke-AsPostgres (Join-Path $bin 'pg_ctl') @('-D', $db, '-m', 'fast', '-w', 'stop') | Out-Null
        Write-Host 'build: PostgreSQL stopped'
    }
}

function Start-Redis {
    Install-DebianPackages @('redis-server') 'Redis'
    $dir = Join-Path $DataDir 'redis'
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    $pidFile = Join-Path $dir 'redis.pid'
    if ((Invoke-Native 'redis-cli' @('-p', "$RedisPort", 'ping') -Quiet) -ne 0) {
        $rc = Invoke-Native 'redis-server' @('--port', "$RedisPort", '--bind', '127.0.0.1', '--dir', $dir, '--daemonize', 'yes',
            '--pidfile', $pidFile, '--logfile', (Join-Path $dir 'redis.log'), '--save', '', '--appendonly', 'no')
        if ($rc -ne 0) { Fail "redis-server did not start on 127.0.0.1:${RedisPort}: see .data/redis/redis.log" }
        for ($i = 0; $i -lt 50 -and (Invoke-Native 'redis-cli' @('-p', "$RedisPort", 'ping') -Quiet) -ne 0; $i++) { Start-Sleep -Milliseconds 100 }
        if ((Invoke-Native 'redis-cli' @('-p', "$RedisPort", 'ping') -Quiet) -ne 0) { Fail "Redis is not answering on 127.0.0.1:${RedisPort}: see .data/redis/redis.log" }
    }
    Write-Host "build: Redis up on 127.0.0.1:$RedisPort"
}

function Stop-Redis {
    $pidFile = Join-Path $DataDir 'redis/redis.pid'
    if (Test-Path $pidFile) {
        & kill (Get-Content $pidFile) 2>$null
        Remove-Item $pidFile -ErrorAction SilentlyContinue
        Write-Host 'build: Redis stopped'
    }
}

function Invoke-Services([string]$Action) {
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    switch ($Action) {
        'up' {
            Start-Postgres
            Start-Redis
            Install-DebianPackages @('kcat') 'Kafka command-line checks'
            # Exported for the processes this script starts (tests, node, benchmarks).
            $env:ConnectionStrings__Postgres = "Host=127.0.0.1;Port=$PgPort;Username=postgres;Database=$Database;Maximum Pool Size=100"
            $env:ConnectionStrings__Redis = "127.0.0.1:$RedisPort"
        }
        'down' { Stop-Redis; Stop-Postgres }
        'status' {
            $pg = (Invoke-Native 'pg_isready' @('-h', '127.0.0.1', '-p', "$PgPort", '-q') -Quiet) -eq 0
            $redis = (Get-Command redis-cli -ErrorAction SilentlyContinue) -and (Invoke-Native 'redis-cli' @('-p', "$RedisPort", 'ping') -Quiet) -eq 0
            Write-Host ("PostgreSQL 127.0.0.1:{0}  {1}" -f $PgPort, ($pg ? 'up' : 'down'))
            Write-Host ("Redis      127.0.0.1:{0}  {1}" -f $RedisPort, ($redis ? 'up' : 'down'))
        }
        default { Fail "services: expected up, down or status, got '$Action'" }
    }
}

function Invoke-Tests([string[]]$Extra) {
    Invoke-Services 'up'
    # The console's browser specs drive Debian's chromium (Playwright's own browser download does not work offline).
    Install-DebianPackages @('chromium') "the console's browser specs"
    $results = Join-Path $DataDir 'test-results'
    Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
    & dotnet build (Join-Path $Root 'SmartGrid.Actors.sln') -c Release -nologo -v q
    if ($LASTEXITCODE -ne 0) { Fail 'build failed' }
    # One test project at a time: on two cores, parallel projects starve each other's timing-
    # sensitive tests (Kafka group rebalances, crash recovery) for little gain in wall time.
    & dotnet test (Join-Path $Root 'SmartGrid.Actors.sln') -c Release --no-build --nologo -m:1 `
        --logger 'trx' --logger 'console;verbosity=minimal' --results-directory $results @Extra
    $code = $LASTEXITCODE
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($trx in Get-ChildItem $results -Filter '*.trx' -ErrorAction SilentlyContinue) {
        $counters = ([xml](Get-Content $trx.FullName -Raw)).TestRun.ResultSummary.Counters
        $passed += [int]$counters.passed
        $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $skipped += [int]$counters.notExecuted
    }
    if ($code -ne 0 -and $failed -eq 0) { $failed = 1 }
    Write-Host ''
    Write-Host ("tests: {0} passed, {1} failed, {2} skipped" -f $passed, $failed, $skipped)
    exit $code
}

# Built, then run as this script's own child: no 'dotnet run' process (~290 MB) waiting beside the node, and
# kill -9 of the run's process tree still takes the node with it.
function Invoke-Node([string[]]$Arguments) {
    & dotnet build (Join-Path $Root 'src/SmartGrid.Node') -c Release -nologo -v q | Out-Host
    if ($LASTEXITCODE -ne 0) { Fail 'build of src/SmartGrid.Node failed' }
    Set-Location $Root
    & dotnet (Join-Path $Root 'src/SmartGrid.Node/bin/Release/net10.0/SmartGrid.Node.dll') @Arguments
    exit $LASTEXITCODE
}

# The SRE tool as ./build.sh runs it (there without PowerShell): built only when a source is newer than the dll.
function Invoke-SreTool([string[]]$Arguments) {
    $tool = Join-Path $Root 'src/SmartGrid.Cmd/bin/Release/net10.0/SmartGrid.Cmd.dll'
    $sources = @(Get-ChildItem (Join-Path $Root 'src/SmartGrid.Cmd') -Recurse -File | Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' }) +
        @('Directory.Build.props', 'Directory.Packages.props', 'global.json' | ForEach-Object { Get-Item (Join-Path $Root $_) })
    if (-not (Test-Path $tool) -or @($sources | Where-Object { $_.LastWriteTimeUtc -gt (Get-Item $tool).LastWriteTimeUtc }).Count -gt 0) {
        & dotnet build (Join-Path $Root 'src/SmartGrid.Cmd') -c Release -nologo -v q | ForEach-Object { [Console]::Error.WriteLine($_) }
        if ($LASTEXITCODE -ne 0) { Fail 'build of src/SmartGrid.Cmd failed' }
        (Get-Item $tool).LastWriteTimeUtc = [DateTime]::UtcNow
    }
    Set-Location $Root # the development token is found from here (.data/management-token)
    & dotnet $tool @Arguments
    exit $LASTEXITCODE
}

# ---- mail sink: smtp4dev (a local dotnet tool) catches the development run's email --------------
# Fixed dev ports (SMARTGRID_MAIL_SINK_SMTP_PORT / _WEB_PORT override): the quick start names them.
$MailSinkSmtpPort = if ($env:SMARTGRID_MAIL_SINK_SMTP_PORT) { [int]$env:SMARTGRID_MAIL_SINK_SMTP_PORT } else { 2525 }
$MailSinkWebPort = if ($env:SMARTGRID_MAIL_SINK_WEB_PORT) { [int]$env:SMARTGRID_MAIL_SINK_WEB_PORT } else { 5025 }

# Starts smtp4dev detached (its own process group, so one kill ends the tool and its host) and returns
# its pid, or 0 when a sink already listens on the SMTP port (another run's: reused, left running).
function Start-MailSink {
    # Specs that drive ./build.sh run (and kill its tree) have no use for a sink they would leave behind.
    if ($env:SMARTGRID_MAIL_SINK -eq 'off') { return 0 }
    if (-not (Test-PortFree $MailSinkSmtpPort)) {
        Write-Host "mail sink: port $MailSinkSmtpPort already taken; using what listens there (web UI http://127.0.0.1:$MailSinkWebPort if it is smtp4dev)"
        return 0
    }
    $log = Join-Path $DataDir 'mail-sink.log'
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    # In-memory store, loopback only; IMAP and POP3 beside SMTP so no privileged default port is needed.
    $sinkPid = Start-Detached @('dotnet', 'tool', 'run', 'smtp4dev', '--', "--urls=http://127.0.0.1:$MailSinkWebPort", "--smtpport=$MailSinkSmtpPort",
        "--imapport=$($MailSinkSmtpPort + 1)", "--pop3port=$($MailSinkSmtpPort + 2)", '--bindaddress=127.0.0.1', '--db=', '--nousersettings') $log
    Write-Host "mail sink: smtp4dev on smtp://127.0.0.1:$MailSinkSmtpPort, read the mail at http://127.0.0.1:$MailSinkWebPort (log $log)"
    return $sinkPid
}

function Stop-MailSink([int]$SinkPid) {
    if ($SinkPid -gt 0) { Invoke-Native 'kill' @('--', "-$SinkPid") -Quiet | Out-Null }
}

# ---- cluster: three node processes and one standalone broker on this machine -------------------
# Ports: SMARTGRID_CLUSTER_PORT_OFFSET is added to every one, so a second checkout can run beside.
$ClusterDir = Join-Path $DataDir 'cluster'
$ClusterState = Join-Path $ClusterDir 'cluster.json'

function Get-ClusterLayout {
    $o = if ($env:SMARTGRID_CLUSTER_PORT_OFFSET) { [int]$env:SMARTGRID_CLUSTER_PORT_OFFSET } else { 0 }
    $seeds = @("akka.tcp://smartgrid@127.0.0.1:$(4101 + $o)", "akka.tcp://smartgrid@127.0.0.1:$(4102 + $o)")
    # The first seed (node1) forms the cluster; the others join it, and node2 can seed a restarted node1.
    # Every role runs on two nodes, so a killed node's singletons, shards and partitions have a second home.
    return @(
        [ordered]@{ name = 'node1'; roles = 'gateway,ingest,services'; akka = 4101 + $o; gateway = 3000 + $o; ingest = 3001 + $o; http = 3000 + $o; management = 0; cmd = 9111 + $o; seeds = $seeds },
        [ordered]@{ name = 'node2'; roles = 'processor,services'; akka = 4102 + $o; gateway = 0; ingest = 0; http = 3102 + $o; management = 3102 + $o; cmd = 9112 + $o; seeds = $seeds },
        [ordered]@{ name = 'node3'; roles = 'processor,simulator,gateway,ingest'; akka = 4103 + $o; gateway = 3010 + $o; ingest = 3011 + $o; http = 3103 + $o; management = 3103 + $o; cmd = 9113 + $o; seeds = $seeds; ingestUrl = "http://127.0.0.1:$(3001 + $o)/telemetry/batch" }
    )
}

function Test-Alive([int]$ProcessId) {
    return $ProcessId -gt 0 -and (Invoke-Native 'kill' @('-0', "$ProcessId") -Quiet) -eq 0
}

function Test-PortFree([int]$Port) {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $Port)
    try { $listener.Start(); return $true } catch { return $false } finally { $listener.Stop() }
}

# Detached from this shell (own session: no SIGHUP when the terminal closes), output to $Log.
# sh execs setsid which execs dotnet, so the pid returned is the node's own.
function Start-Detached([string[]]$Command, [string]$Log) {
    $info = [System.Diagnostics.ProcessStartInfo]::new('sh')
    $info.UseShellExecute = $false
    foreach ($a in @('-c', 'exec setsid "$0" "$@" >>"$SMARTGRID_LOG" 2>&1 </dev/null') + $Command) { $info.ArgumentList.Add($a) }
    $info.Environment['SMARTGRID_LOG'] = $Log
    return [System.Diagnostics.Process]::Start($info).Id
}

# The development run's management token (made by the first node that starts): smartgrid-cmd finds it
# there by itself, and /health/ready shows its checks only to a request that carries it.
$ManagementTokenFile = Join-Path $DataDir 'management-token'

function Get-Readiness([int]$Port) {
    try {
        $headers = @{}
        if (Test-Path $ManagementTokenFile) { $headers['Authorization'] = "Bearer $((Get-Content $ManagementTokenFile -Raw).Trim())" }
        $r = Invoke-WebRequest -Uri "http://127.0.0.1:$Port/health/ready" -TimeoutSec 5 -SkipHttpErrorCheck -Headers $headers
        $body = $r.Content | ConvertFrom-Json
        $down = @($body.checks.PSObject.Properties | Where-Object { $_.Value.status -ne 'Healthy' } | ForEach-Object { "$($_.Name): $($_.Value.description)" })
        return [pscustomobject]@{ Code = [int]$r.StatusCode; Text = ($r.StatusCode -eq 200 ? 'ready' : "not ready ($($down -join '; '))") }
    } catch {
        return [pscustomobject]@{ Code = 0; Text = 'no answer' }
    }
}

function Start-Cluster([string[]]$Extra) {
    if (Test-Path $ClusterState) {
        $state = Get-Content $ClusterState -Raw | ConvertFrom-Json
        if (@($state.nodes | Where-Object { Test-Alive $_.pid }).Count -gt 0 -or (Test-Alive $state.kafka.pid)) {
            Fail "a cluster is already running (./build.sh cluster status); stop it with ./build.sh cluster down"
        }
    }
    $layout = Get-ClusterLayout
    $taken = @($layout | ForEach-Object { $_.akka; $_.http; $_.cmd; if ($_.ingest) { $_.ingest } } | Where-Object { -not (Test-PortFree $_) })
    if ($taken.Count -gt 0) { Fail "ports in use: $($taken -join ', ') (./build.sh run still up? or set SMARTGRID_CLUSTER_PORT_OFFSET)" }

    # The shared PostgreSQL and Redis: the ones in the environment, else our own.
    if (-not ($env:ConnectionStrings__Postgres -and $env:ConnectionStrings__Redis)) { Invoke-Services 'up' }
    if (-not $env:ASPNETCORE_ENVIRONMENT) { $env:ASPNETCORE_ENVIRONMENT = 'Development' }

    & dotnet build (Join-Path $Root 'src/SmartGrid.Node') -c Release -nologo -v q | Out-Host
    if ($LASTEXITCODE -ne 0) { Fail 'build of src/SmartGrid.Node failed' }
    $dll = Join-Path $Root 'src/SmartGrid.Node/bin/Release/net10.0/SmartGrid.Node.dll'

    Remove-Item -Recurse -Force $ClusterDir -ErrorAction SilentlyContinue
    New-Item -ItemType Directory -Force -Path $ClusterDir | Out-Null
    $bootstrapFile = Join-Path $ClusterDir 'kafka/bootstrap'
    $kafkaLog = Join-Path $ClusterDir 'kafka.log'
    $kafkaPid = Start-Detached @('dotnet', $dll, 'kafka', '--bootstrap-file', $bootstrapFile) $kafkaLog
    for ($i = 0; $i -lt 300 -and -not (Test-Path $bootstrapFile); $i++) {
        if (-not (Test-Alive $kafkaPid)) { Fail "the broker exited: see $kafkaLog" }
        Start-Sleep -Milliseconds 100
    }
    if (-not (Test-Path $bootstrapFile)) { Fail "the broker wrote no address within 30 s: see $kafkaLog" }
    $bootstrap = (Get-Content $bootstrapFile -Raw).Trim()
    Write-Host "build: Kafka (embedded, standalone) on $bootstrap, pid $kafkaPid"

    $nodes = @()
    foreach ($n in $layout) {
        $log = Join-Path $ClusterDir "$($n.name).log"
        $nodeArgs = @('dotnet', $dll, '--roles', $n.roles, '--kafka', $bootstrap,
            "--SmartGrid:Cluster:Port=$($n.akka)",
            "--SmartGrid:Cluster:SeedNodes:0=$($n.seeds[0])", "--SmartGrid:Cluster:SeedNodes:1=$($n.seeds[1])",
            "--SmartGrid:Http:ManagementPort=$($n.management)",
            "--SmartGrid:Management:Port=$($n.cmd)", "--SmartGrid:Management:TokenFile=$ManagementTokenFile")
        if ($n.gateway) { $nodeArgs += "--SmartGrid:Http:GatewayPort=$($n.gateway)" }
        if ($n.ingest) { $nodeArgs += "--SmartGrid:Http:IngestPort=$($n.ingest)" }
        if ($n.Contains('ingestUrl')) { $nodeArgs += "--SmartGrid:Simulator:IngestUrl=$($n.ingestUrl)" }
        $nodeArgs += $Extra
        $nodePid = Start-Detached $nodeArgs $log
        $nodes += [ordered]@{ name = $n.name; roles = $n.roles; pid = $nodePid; akka = $n.akka; http = $n.http; gateway = $n.gateway; ingest = $n.ingest; cmd = $n.cmd; log = $log }
        Write-Host "build: $($n.name) [$($n.roles)] pid $nodePid, Akka $($n.akka), HTTP $($n.http), log $log"
    }
    [ordered]@{ kafka = [ordered]@{ pid = $kafkaPid; bootstrap = $bootstrap; log = $kafkaLog }; nodes = $nodes } |
        ConvertTo-Json -Depth 4 | Set-Content $ClusterState

    $until = (Get-Date).AddSeconds(180)
    foreach ($n in $nodes) {
        while ((Get-Readiness $n.http).Code -ne 200) {
            if (-not (Test-Alive $n.pid)) { Fail "$($n.name) exited: see $($n.log)" }
            if ((Get-Date) -gt $until) { Fail "$($n.name) not ready within 180 s: see $($n.log) (./build.sh cluster down stops the rest)" }
            Start-Sleep -Seconds 1
        }
    }
    Show-Cluster
}

function Show-Cluster {
    if (-not (Test-Path $ClusterState)) { Write-Host 'no cluster (./build.sh cluster up starts one)'; return }
    $state = Get-Content $ClusterState -Raw | ConvertFrom-Json
    Write-Host ("{0,-6} {1,-20} {2,-8} {3,-6} {4,-22} {5,-5} {6}" -f 'node', 'roles', 'pid', 'akka', 'http', 'cmd', '/health/ready')
    foreach ($n in $state.nodes) {
        $alive = Test-Alive $n.pid
        $ports = if ($n.gateway) { "$($n.gateway) gw, $($n.ingest) ingest" } else { "$($n.http) mgmt" }
        $ready = if ($alive) { (Get-Readiness $n.http).Text } else { 'process gone' }
        Write-Host ("{0,-6} {1,-20} {2,-8} {3,-6} {4,-22} {5,-5} {6}" -f $n.name, $n.roles, ($alive ? $n.pid : "($($n.pid))"), $n.akka, $ports, $n.cmd, $ready)
    }
    $k = $state.kafka
    Write-Host ("kafka  {0,-20} {1,-8} {2}" -f 'embedded broker', ((Test-Alive $k.pid) ? $k.pid : "($($k.pid))"), $k.bootstrap)
    Write-Host "logs: $ClusterDir/*.log"
}

function Stop-Cluster {
    if (-not (Test-Path $ClusterState)) { Write-Host 'build: no cluster running'; return }
    $state = Get-Content $ClusterState -Raw | ConvertFrom-Json
    # SIGTERM: each node drains its Kafka consumers, commits and leaves the cluster; SIGKILL only after 60 s.
    function Stop-Pids([int[]]$Pids, [string]$What) {
        $alive = @($Pids | Where-Object { Test-Alive $_ })
        foreach ($p in $alive) { Invoke-Native 'kill' @('-TERM', "$p") -Quiet | Out-Null }
        $until = (Get-Date).AddSeconds(60)
        while (@($alive | Where-Object { Test-Alive $_ }).Count -gt 0 -and (Get-Date) -lt $until) { Start-Sleep -Milliseconds 250 }
        foreach ($p in @($alive | Where-Object { Test-Alive $_ })) {
            Write-Host "build: $What pid $p did not stop within 60 s; killing it"
            Invoke-Native 'kill' @('-KILL', "$p") -Quiet | Out-Null
        }
        if ($alive.Count -gt 0) { Write-Host "build: stopped $What (pid $($alive -join ', '))" }
    }
    Stop-Pids @($state.nodes | ForEach-Object { [int]$_.pid }) 'nodes'
    Stop-Pids @([int]$state.kafka.pid) 'Kafka broker'
    Remove-Item $ClusterState -ErrorAction SilentlyContinue
}

function Invoke-Cluster([string]$Action, [string[]]$Extra) {
    switch ($Action) {
        'up' { Start-Cluster $Extra }
        'down' { Stop-Cluster }
        'status' { Show-Cluster }
        default { Fail "cluster: expected up, down or status, got '$Action'" }
    }
}

switch ($Target) {
    'services' { Invoke-Services ($Rest.Count -gt 0 ? $Rest[0] : 'status') }
    'test' { Invoke-Tests $Rest }
    'run' {
        Invoke-Services 'up'
        # The development run: demo accounts, a signing key generated for this installation under .data/ (only Development makes one).
        if (-not $env:ASPNETCORE_ENVIRONMENT) { $env:ASPNETCORE_ENVIRONMENT = 'Development' }
        # One line an entry, one timestamp a line (UTC, as log peek shows them), unless the caller chose otherwise.
        $console = [ordered]@{ FormatterName = 'simple'; FormatterOptions__SingleLine = 'true'; FormatterOptions__TimestampFormat = 'HH:mm:ss.fff '; FormatterOptions__UseUtcTimestamp = 'true' }
        foreach ($name in $console.Keys) {
            if (-not [Environment]::GetEnvironmentVariable("Logging__Console__$name")) { [Environment]::SetEnvironmentVariable("Logging__Console__$name", $console[$name]) }
        }
        # The node runs in the checkout's root: .data/ (broker address, token, mail, signing key) is the root's.
        $sink = Start-MailSink
        try {
            Invoke-Node (@('--roles', 'all', "--SmartGrid:Kafka:BootstrapFile=$(Join-Path $DataDir 'kafka/bootstrap')",
                "--SmartGrid:Management:TokenFile=$ManagementTokenFile", "--SmartGrid:Notifications:Smtp:Port=$MailSinkSmtpPort") + $Rest)
        }
        finally { Stop-MailSink $sink }
    }
    'cluster' { Invoke-Cluster ($Rest.Count -gt 0 ? $Rest[0] : 'status') ($Rest.Count -gt 1 ? $Rest[1..($Rest.Count - 1)] : @()) }
    'kafka' { Invoke-Node (@('kafka', '--bootstrap-file', (Join-Path $DataDir 'kafka/bootstrap')) + $Rest) }
    'cmd' {
        # pwsh ./build.ps1 cmd -- cluster show: the '--' only ends build.ps1's own words.
        Invoke-SreTool @($Rest | Select-Object -Skip ($Rest.Count -gt 0 -and $Rest[0] -eq '--' ? 1 : 0))
    }
    'bench' {
        if ($Rest.Count -gt 0 -and $Rest[0] -notin 'kafka', 'meters', 'generator', 'faults') { Invoke-Services 'up' }
        & dotnet run --project (Join-Path $Root 'src/SmartGrid.Bench') -c Release -- @Rest
        exit $LASTEXITCODE
    }
    default {
        Write-Host 'usage: ./build.sh run | test | bench kafka|pipeline|recovery|scale|meter-buckets|alerts|alert-quality|escalation|redis-outage|revocation|meters|generator|faults | services up|down|status | kafka | cluster up|down|status | cmd -- <command>'
        if ($Target -ne 'help') { exit 2 }
    }
}
