using System;
using System.Management.Automation;
using Hashall.Core.QBittorrent;

namespace Hashall.PowerShell
{
    /// <summary>What the cmdlets that talk to qBittorrent share: -Uri, -Credential, -TimeoutSec and the connection they make.</summary>
    public abstract class QBittorrentCmdlet : HashallCmdlet
    {
        /// <summary>qBittorrent's Web UI address; default $env:QBITTORRENT_URL.</summary>
        [Parameter]
        public string? Uri { get; set; }

        /// <summary>Web UI login; default $env:QBITTORRENT_USER / $env:QBITTORRENT_PASS; none for a localhost bypass.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>Seconds to wait for each answer from qBittorrent (default 30).</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 30;

        /// <summary>A -Uri that can never be used (a query, credentials in it) is refused up front, -WhatIf included.</summary>
        protected override void BeginProcessing()
        {
            if (Uri == null)
                return;
            try
            {
                QBittorrentConnection.Resolve(Uri, null, null);
            }
            catch (Hashall.Core.HashallException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e));
            }
        }

        /// <summary>Where qBittorrent is and how to log in, from the parameters or the environment.</summary>
        protected QBittorrentConnection Connection()
        {
            var connection = QBittorrentConnection.Resolve(Uri, Credential?.UserName, Credential?.GetNetworkCredential().Password);
            connection.Timeout = TimeSpan.FromSeconds(TimeoutSec);
            return connection;
        }

        /// <summary>A client for that qBittorrent whose requests Ctrl+C interrupts (not yet connected).</summary>
        protected QBittorrentClient NewClient() => new QBittorrentClient(Connection(), StopToken);

        private QBittorrentClient? _connected;

        /// <summary>
        /// One connected client for the whole pipeline, made at first use (the Web API is checked once);
        /// failing to connect ends the cmdlet, since every input would fail alike.
        /// </summary>
        protected QBittorrentClient ConnectedClient()
        {
            if (_connected == null)
            {
                var client = NewClient();
                try
                {
                    client.Connect();
                }
                catch (Hashall.Core.HashallException e)
                {
                    client.Dispose();
                    ThrowTerminatingError(ErrorRecords.From(e));
                }
                _connected = client;
            }
            return _connected;
        }

        protected override void Release() => _connected?.Dispose();
    }
}
