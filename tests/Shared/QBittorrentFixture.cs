using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hashall.Tests.Shared;

/// <summary>
/// A real qbittorrent-nox on 127.0.0.1 with a private profile and free ports, started for the tests
/// and shut down after them. With a user and password the Web UI requires a login (the password
/// stored as qBittorrent stores it: PBKDF2-HMAC-SHA512, 100,000 iterations); without, loopback
/// clients need none.
/// </summary>
public sealed class QBittorrentFixture : IDisposable
{
    private Process _process = null!;
    private readonly HttpClient _http;
    private readonly List<string> _config;

    public QBittorrentFixture() : this(null, null) { }

    internal QBittorrentFixture(string? user, string? password, int maxFailedLogins = 0)
    {
        Profile = Directory.CreateTempSubdirectory("hashall-qbt-").FullName;
        Port = FreePort();
        User = user;
        Password = password;
        string config = Path.Combine(Profile, "qBittorrent", "config");
        Directory.CreateDirectory(config);
        var lines = new List<string>
        {
            "[LegalNotice]", "Accepted=true", "",
            "[Network]", "PortForwardingEnabled=false", "",
            "[BitTorrent]", "Session\\DHTEnabled=false", "Session\\PeXEnabled=false", "Session\\LSDEnabled=false",
            "Session\\Interface=lo", "Session\\InterfaceName=lo", "Session\\InterfaceAddress=127.0.0.1", $"Session\\Port={FreePort()}",
            // No queue: a class's tests share one qBittorrent, and past its active-torrent limits it would
            // queue (queuedUP) torrents at moments no test controls.
            "Session\\QueueingSystemEnabled=false", "",
            "[Preferences]", "WebUI\\Address=127.0.0.1", $"WebUI\\Port={Port}", "WebUI\\CSRFProtection=false", "WebUI\\HostHeaderValidation=false",
            $"WebUI\\MaxAuthenticationFailCount={maxFailedLogins}", "Connection\\UPnP=false", "Connection\\ResolvePeerCountries=false",
            $"WebUI\\LocalHostAuth={(user != null ? "true" : "false")}",
        };
        if (user != null)
        {
            lines.Add($"WebUI\\Username={user}");
            lines.Add($"WebUI\\Password_PBKDF2=\"@ByteArray({PasswordHash(password ?? "")})\"");
        }
        _config = lines;
        _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(Url + "api/v2/") };
        _http.DefaultRequestHeaders.Referrer = new Uri(Url);
        if (!Capabilities.HasQBittorrent)
            return; // a class fixture of tests marked [RequiresFact(Needs.QBittorrent)], which skip here
        Start();
        if (user != null)
            Login(user, password ?? "");
    }

    /// <summary>Writes a fresh config (qBittorrent rewrites it on exit) and starts qbittorrent-nox on the profile; waits until it answers.</summary>
    private void Start()
    {
        File.WriteAllLines(Path.Combine(Profile, "qBittorrent", "config", "qBittorrent.conf"), _config);
        _process?.Dispose(); // a killed predecessor
        var psi = new ProcessStartInfo("qbittorrent-nox") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add($"--profile={Profile}");
        _process = Process.Start(psi) ?? throw new InvalidOperationException("qbittorrent-nox did not start (is it installed? .ci/run installs it)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var answer = _http.GetAsync("app/version").GetAwaiter().GetResult();
                if (answer.IsSuccessStatusCode || answer.StatusCode == HttpStatusCode.Forbidden)
                    break;
            }
            catch (HttpRequestException) { }
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"qbittorrent-nox did not answer on {Url} (exited: {_process.HasExited}).");
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGKILL: qBittorrent gone at once, as after a crash (its API unreachable until <see cref="Restart"/>).</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Starts qBittorrent again on the same profile and port, with the torrents it had.</summary>
    public void Restart()
    {
        Start();
        if (User != null)
            Login(User, Password ?? "");
    }

    public string Profile { get; }
    public int Port { get; }
    public string? User { get; }
    public string? Password { get; }
    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>Makes a v1 torrent of a file or directory with mktorrent; returns the .torrent path and its infohash.</summary>
    public static (string Torrent, string Hash) MakeTorrent(string content, string outputDir, int pieceLengthExponent = 15)
    {
        string torrent = Path.Combine(outputDir, $"{Path.GetFileName(content)}-{pieceLengthExponent}-{Guid.NewGuid():N}.torrent");
        TempTree.Run("mktorrent", "-p", "-l", pieceLengthExponent.ToString(), "-a", "http://127.0.0.1:1/announce", "-o", torrent, content);
        return (torrent, Bencode.InfoHash(File.ReadAllBytes(torrent)));
    }

    /// <summary>
    /// Makes a hybrid (v1 + v2) torrent with libtorrent's Python binding (Debian python3-libtorrent,
    /// run by the system python3); qBittorrent's id for it is the v2 infohash cut to 40 hex digits.
    /// </summary>
    public static (string Torrent, string Hash, string V1, string V2) MakeHybridTorrent(string content, string outputDir)
    {
        string torrent = Path.Combine(outputDir, $"{Path.GetFileName(content)}-hybrid-{Guid.NewGuid():N}.torrent");
        string script = """
import libtorrent as lt, os, sys
content, out = sys.argv[1], sys.argv[2]
fs = lt.file_storage()
lt.add_files(fs, content)
t = lt.create_torrent(fs, 16384)
t.add_tracker("http://127.0.0.1:1/announce")
t.set_priv(True)
lt.set_piece_hashes(t, os.path.dirname(content))
open(out, "wb").write(lt.bencode(t.generate()))
h = lt.torrent_info(out).info_hashes()
print(h.v1, h.v2)
""";
        var hashes = TempTree.Run("/usr/bin/python3", "-c", script, content, torrent).Trim().Split(' ');
        return (torrent, hashes[1][..40], hashes[0], hashes[1]);
    }

    /// <summary>Adds a torrent (paused or not) and waits until qBittorrent has checked it against the data.</summary>
    public void Add(string torrent, string hash, string savePath, string? category = null, string? tags = null)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(File.ReadAllBytes(torrent)), "torrents", Path.GetFileName(torrent) },
            { new StringContent(savePath), "savepath" },
        };
        if (category != null) form.Add(new StringContent(category), "category");
        if (tags != null) form.Add(new StringContent(tags), "tags");
        var answer = _http.PostAsync("torrents/add", form).GetAwaiter().GetResult();
        string body = answer.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!answer.IsSuccessStatusCode || body.Trim() != "Ok.")
            throw new InvalidOperationException($"torrents/add answered {(int)answer.StatusCode} {body}");
        WaitUntil(hash, state => !state.StartsWith("checking") && state != "metaDL" && state != "allocating" && state != "moving" && state != "unknown");
    }

    public void Delete(string hash)
    {
        var answer = _http.PostAsync("torrents/delete", new FormUrlEncodedContent(new Dictionary<string, string> { ["hashes"] = hash, ["deleteFiles"] = "false" }))
            .GetAwaiter().GetResult();
        answer.EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (State(hash) != null && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
    }

    /// <summary>Pauses a torrent and waits until qBittorrent shows it paused.</summary>
    public void Pause(string hash)
    {
        _http.PostAsync("torrents/pause", new FormUrlEncodedContent(new Dictionary<string, string> { ["hashes"] = hash })).GetAwaiter().GetResult().EnsureSuccessStatusCode();
        WaitUntil(hash, state => state.StartsWith("paused") || state.StartsWith("stopped"));
    }

    /// <summary>What qBittorrent says of a torrent now: state, content path, save path, progress; null when it has none.</summary>
    public (string State, string ContentPath, string SavePath, double Progress)? Info(string hash)
    {
        string json = _http.GetStringAsync("torrents/info?hashes=" + hash).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.GetArrayLength() == 0)
            return null;
        var t = doc.RootElement[0];
        return (t.GetProperty("state").GetString()!, t.GetProperty("content_path").GetString()!, t.GetProperty("save_path").GetString()!, t.GetProperty("progress").GetDouble());
    }

    /// <summary>qBittorrent's ids of a torrent: torrents/info's hash, infohash_v1 and infohash_v2; null when it has none.</summary>
    public (string Hash, string V1, string V2)? Ids(string hash)
    {
        string json = _http.GetStringAsync("torrents/info?hashes=" + hash).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.GetArrayLength() == 0)
            return null;
        var t = doc.RootElement[0];
        return (t.GetProperty("hash").GetString()!, t.GetProperty("infohash_v1").GetString()!, t.GetProperty("infohash_v2").GetString()!);
    }

    /// <summary>Sets the priority of files of a torrent (torrents/filePrio; 0: not downloaded) by their index.</summary>
    public void SetFilePriority(string hash, int priority, params int[] ids)
    {
        _http.PostAsync("torrents/filePrio", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["hash"] = hash, ["id"] = string.Join("|", ids), ["priority"] = priority.ToString(),
        })).GetAwaiter().GetResult().EnsureSuccessStatusCode();
    }

    /// <summary>A torrent's tags as qBittorrent has them now.</summary>
    public string[] Tags(string hash)
    {
        string json = _http.GetStringAsync("torrents/info?hashes=" + hash).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetArrayLength() == 0 ? []
            : doc.RootElement[0].GetProperty("tags").GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The names and priorities of a torrent's files (torrents/files).</summary>
    public List<(string Name, int Priority)> Files(string hash)
    {
        string json = _http.GetStringAsync("torrents/files?hash=" + hash).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(f => (f.GetProperty("name").GetString()!, f.GetProperty("priority").GetInt32())).ToList();
    }

    public string? State(string hash)
    {
        string json = _http.GetStringAsync("torrents/info?hashes=" + hash).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetArrayLength() == 0 ? null : doc.RootElement[0].GetProperty("state").GetString();
    }

    /// <summary>
    /// Adds many torrents to one save path, fifty to a torrents/add request, and waits until qBittorrent
    /// has them all ready. qBittorrent checks one torrent at a time, about 1.5 s each here even for a
    /// few KiB: <paramref name="skipChecking"/> (torrents/add skip_checking) has it take the data as
    /// complete, for tests of hundreds of torrents whose data is known to be right.
    /// </summary>
    public void AddMany(IReadOnlyList<string> torrents, IReadOnlyList<string> hashes, string savePath, string? category = null, bool skipChecking = false)
    {
        for (int at = 0; at < torrents.Count; at += 50)
        {
            using var form = new MultipartFormDataContent { { new StringContent(savePath), "savepath" } };
            foreach (var torrent in torrents.Skip(at).Take(50))
                form.Add(new ByteArrayContent(File.ReadAllBytes(torrent)), "torrents", Path.GetFileName(torrent));
            if (category != null) form.Add(new StringContent(category), "category");
            if (skipChecking) form.Add(new StringContent("true"), "skip_checking");
            var answer = _http.PostAsync("torrents/add", form).GetAwaiter().GetResult();
            string body = answer.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (!answer.IsSuccessStatusCode || body.Trim() != "Ok.")
                throw new InvalidOperationException($"torrents/add answered {(int)answer.StatusCode} {body}");
        }
        var wanted = new HashSet<string>(hashes, StringComparer.OrdinalIgnoreCase);
        var deadline = DateTime.UtcNow.AddSeconds(30 + hashes.Count / 2);
        int ready = 0;
        while (DateTime.UtcNow < deadline)
        {
            using var doc = JsonDocument.Parse(_http.GetStringAsync("torrents/info").GetAwaiter().GetResult());
            ready = doc.RootElement.EnumerateArray().Count(t => wanted.Contains(t.GetProperty("hash").GetString()!)
                && t.GetProperty("state").GetString() is string state && !state.StartsWith("checking") && state is not ("metaDL" or "allocating" or "moving" or "unknown"));
            if (ready == wanted.Count)
                return;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{wanted.Count - ready} of {wanted.Count} torrents were not checked in time.");
    }

    private void WaitUntil(string hash, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? state = null;
        while (DateTime.UtcNow < deadline)
        {
            state = State(hash);
            if (state != null && done(state))
                return;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"torrent {hash} stayed in state '{state}'.");
    }

    private void Login(string user, string password)
    {
        var answer = _http.PostAsync("auth/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password }))
            .GetAwaiter().GetResult();
        if (answer.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim() != "Ok.")
            throw new InvalidOperationException("The fixture could not log in to its own qBittorrent.");
    }

    private static string PasswordHash(string password)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        byte[] key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, 100_000, HashAlgorithmName.SHA512, 64);
        return Convert.ToBase64String(salt) + ":" + Convert.ToBase64String(key);
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        if (_process == null)
        {
            _http.Dispose();
            try { Directory.Delete(Profile, recursive: true); } catch (IOException) { }
            return;
        }
        try
        {
            _http.PostAsync("app/shutdown", null).GetAwaiter().GetResult();
            if (!_process.WaitForExit(10_000))
                _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is HttpRequestException || e is InvalidOperationException)
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
        _http.Dispose();
        try { Directory.Delete(Profile, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Just enough bencode to find a torrent's info dictionary and hash it (the v1 infohash).</summary>
public static class Bencode
{
    public static string InfoHash(byte[] torrent)
    {
        int at = 0;
        if (torrent[at++] != (byte)'d')
            throw new InvalidDataException("not a bencoded dictionary");
        while (torrent[at] != (byte)'e')
        {
            string key = Encoding.UTF8.GetString(ReadString(torrent, ref at));
            int start = at;
            Skip(torrent, ref at);
            if (key == "info")
                return Convert.ToHexString(SHA1.HashData(torrent.AsSpan(start, at - start))).ToLowerInvariant();
        }
        throw new InvalidDataException("no info dictionary");
    }

    private static byte[] ReadString(byte[] b, ref int at)
    {
        int colon = Array.IndexOf(b, (byte)':', at);
        int length = int.Parse(Encoding.ASCII.GetString(b, at, colon - at));
        at = colon + 1 + length;
        return b[(colon + 1)..at];
    }

    private static void Skip(byte[] b, ref int at)
    {
        switch ((char)b[at])
        {
            case 'i': at = Array.IndexOf(b, (byte)'e', at) + 1; break;
            case 'l': case 'd':
                at++;
                while (b[at] != (byte)'e') Skip(b, ref at);
                at++;
                break;
            default: ReadString(b, ref at); break;
        }
    }
}
