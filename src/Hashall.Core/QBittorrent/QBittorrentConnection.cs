using System;

namespace Hashall.Core.QBittorrent
{
    /// <summary>
    /// Where qBittorrent's Web UI is and how to log in: from parameters, else QBITTORRENT_URL,
    /// QBITTORRENT_USER and QBITTORRENT_PASS. No user means no login (qBittorrent's "bypass
    /// authentication for clients on localhost" or a whitelisted subnet).
    /// </summary>
    public sealed class QBittorrentConnection
    {
        public QBittorrentConnection(Uri baseUri, string? user, string? password)
        {
            BaseUri = baseUri;
            User = user;
            Password = password;
        }

        public Uri BaseUri { get; }
        public string? User { get; }
        public string? Password { get; }
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

        public static QBittorrentConnection Resolve(string? uri, string? user, string? password)
        {
            string? text = uri ?? Environment.GetEnvironmentVariable("QBITTORRENT_URL");
            if (string.IsNullOrWhiteSpace(text))
                throw new HashallException("QBittorrentUriMissing", HashallErrorKind.InvalidArgument,
                    "Where is qBittorrent? Give -Uri (e.g. http://127.0.0.1:8080) or set QBITTORRENT_URL.", null);
            // A query or fragment is refused before anything else looks at the text: it is where secrets
            // (?password=...) travel, and appending the API path would have moved it into the path.
            // The message never repeats the address.
            if (text!.IndexOfAny(new[] { '?', '#' }) >= 0)
                throw new HashallException("QBittorrentUriHasQuery", HashallErrorKind.InvalidArgument,
                    "The qBittorrent address has a query ('?...') or fragment ('#...'); give only scheme, host, port and path (e.g. http://127.0.0.1:8080), "
                    + "and the login with -Credential or QBITTORRENT_USER/QBITTORRENT_PASS. The address is not repeated here, in case it holds a secret.", null);
            if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var parsed) || (parsed.Scheme != "http" && parsed.Scheme != "https"))
                throw new HashallException("QBittorrentUriInvalid", HashallErrorKind.InvalidArgument, "That is not an http(s) address of a qBittorrent Web UI.", null);
            if (parsed.UserInfo.Length > 0)
                // Never carried into messages or requests: a password in the address would show in every error.
                throw new HashallException("QBittorrentUriHasCredentials", HashallErrorKind.InvalidArgument,
                    $"Give the login with -Credential or QBITTORRENT_USER/QBITTORRENT_PASS, not in the address ({parsed.Scheme}://{parsed.Authority}).", null);
            return new QBittorrentConnection(parsed,
                user ?? Environment.GetEnvironmentVariable("QBITTORRENT_USER"),
                password ?? Environment.GetEnvironmentVariable("QBITTORRENT_PASS"));
        }
    }
}
