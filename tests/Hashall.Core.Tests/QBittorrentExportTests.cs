using System.Net;
using System.Text;
using Hashall.Core.QBittorrent;
using Hashall.Core.Torrents;

namespace Hashall.Core.Tests;

/// <summary>torrents/export against a real qBittorrent; an older Web API only by a stand-in (none is installable here).</summary>
public sealed class QBittorrentExportTests : IDisposable
{
    private readonly TempTree _tree = new TempTree();

    public void Dispose() => _tree.Dispose();

    private static QBittorrentClient Client(QBittorrentFixture qbt)
    {
        var client = new QBittorrentClient(new QBittorrentConnection(new Uri(qbt.Url), qbt.User, qbt.Password));
        client.Connect();
        return client;
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ExportedTorrentsParseToQBittorrentsOwnIds()
    {
        using var qbt = new QBittorrentFixture();
        string v1Content = _tree.Path("data", "Show.S01");
        _tree.WriteFile("data/Show.S01/e01.mkv", new string('a', 70_000));
        _tree.WriteFile("data/Show.S01/sub/e02.mkv", new string('b', 33_333));
        string hybridContent = _tree.Path("data", "Album");
        _tree.WriteFile("data/Album/01.flac", new string('c', 50_000));
        _tree.WriteFile("data/Album/02.flac", new string('d', 20_001));
        Directory.CreateDirectory(_tree.Path("out"));
        var v1 = QBittorrentFixture.MakeTorrent(v1Content, _tree.Path("out"), 15);
        var hybrid = QBittorrentFixture.MakeHybridTorrent(hybridContent, _tree.Path("out"));
        qbt.Add(v1.Torrent, v1.Hash, _tree.Path("data"));
        qbt.Add(hybrid.Torrent, hybrid.Hash, _tree.Path("data"));

        using var client = Client(qbt);
        Assert.True(client.WebApiVersion >= QBittorrentClient.ExportWebApi);
        foreach (string hash in new[] { v1.Hash, hybrid.Hash })
        {
            byte[] exported = client.Export(hash);
            var meta = TorrentMetainfo.Parse(exported, "torrents/export");
            var ids = qbt.Ids(hash)!.Value;
            Assert.Equal(ids, (meta.Hash, meta.InfoHashV1Hex, meta.InfoHashV2Hex));
        }
        var hybridMeta = TorrentMetainfo.Parse(client.Export(hybrid.Hash));
        Assert.Equal(hybrid.V1, hybridMeta.InfoHashV1Hex);
        Assert.Equal(hybrid.V2, hybridMeta.InfoHashV2Hex);
        // The info dictionary is the one we made: same infohash as the .torrent file given to qBittorrent.
        Assert.Equal(TorrentMetainfo.Load(v1.Torrent).InfoHashV1Hex, TorrentMetainfo.Parse(client.Export(v1.Hash)).InfoHashV1Hex);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AnUnknownHashIsNotFoundAndALargerTorrentThanAllowedIsRefused()
    {
        using var qbt = new QBittorrentFixture();
        _tree.WriteFile("data/one.bin", new string('x', 40_000));
        Directory.CreateDirectory(_tree.Path("out"));
        var v1 = QBittorrentFixture.MakeTorrent(_tree.Path("data", "one.bin"), _tree.Path("out"), 15);
        qbt.Add(v1.Torrent, v1.Hash, _tree.Path("data"));
        using var client = Client(qbt);

        const string unknown = "0123456789abcdef0123456789abcdef01234567";
        var e = Assert.Throws<HashallException>(() => client.Export(unknown));
        Assert.Equal("TorrentNotFound", e.ErrorId);
        Assert.Equal(HashallErrorKind.NotFound, e.Kind);
        Assert.Contains(unknown, e.Message);

        int size = client.Export(v1.Hash).Length;
        var big = Assert.Throws<HashallException>(() => client.Export(v1.Hash, size - 1));
        Assert.Equal("TorrentFileTooLarge", big.ErrorId);
        Assert.Contains((size - 1).ToString(), big.Message);
        Assert.Equal(size, client.Export(v1.Hash, size).Length); // exactly the limit is allowed
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AMagnetWithoutMetadataCannotBeExportedAndSaysWhy()
    {
        using var qbt = new QBittorrentFixture();
        const string hash = "5c1ab6e5f0a3d2b7c8e9f001122334455667788a";
        using (var http = new HttpClient { BaseAddress = new Uri(new Uri(qbt.Url), "api/v2/") })
        {
            if (qbt.User != null)
                http.PostAsync("auth/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = qbt.User, ["password"] = qbt.Password ?? "" })).GetAwaiter().GetResult().EnsureSuccessStatusCode();
            var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["urls"] = "magnet:?xt=urn:btih:" + hash, ["savepath"] = _tree.Root });
            Assert.Equal("Ok.", http.PostAsync("torrents/add", form).GetAwaiter().GetResult().Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim());
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (qbt.State(hash) == null && DateTime.UtcNow < deadline)
            Thread.Sleep(100);
        Assert.NotNull(qbt.State(hash)); // no peers here: it stays without metadata

        using var client = Client(qbt);
        var e = Assert.Throws<HashallException>(() => client.Export(hash));
        Assert.Equal("TorrentExportFailed", e.ErrorId);
        Assert.Contains(hash, e.Message);
        Assert.Contains("409", e.Message);
        Assert.Contains("metadata", e.Message);
    }

    [Fact]
    public async Task AWebApiWithoutExportIsRefusedBeforeAskingForIt()
    {
        // qBittorrent 4.4.5 (Web API 2.8.5, no torrents/export) is not installable here: a stand-in answers
        // its version calls, and 404 (as 4.4 does for an unknown endpoint) to anything else.
        int port = QBittorrentFixture.FreePort();
        using var old = new HttpListener();
        old.Prefixes.Add($"http://127.0.0.1:{port}/");
        old.Start();
        var asked = new List<string>();
        var server = Task.Run(() =>
        {
            while (true)
            {
                HttpListenerContext context;
                try { context = old.GetContext(); }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
                string path = context.Request.Url!.AbsolutePath;
                lock (asked) asked.Add(path);
                string? answer = path.EndsWith("app/webapiVersion") ? "2.8.5" : path.EndsWith("app/version") ? "v4.4.5" : null;
                context.Response.StatusCode = answer == null ? 404 : 200;
                var body = Encoding.UTF8.GetBytes(answer ?? "Not Found");
                context.Response.OutputStream.Write(body);
                context.Response.Close();
            }
        });
        using (var client = new QBittorrentClient(new QBittorrentConnection(new Uri($"http://127.0.0.1:{port}/"), null, null)))
        {
            // Export connects by itself when the versions are not known yet.
            var e = Assert.Throws<HashallException>(() => client.Export("0123456789abcdef0123456789abcdef01234567"));
            Assert.Equal("TorrentExportUnsupported", e.ErrorId);
            Assert.Equal(HashallErrorKind.NotSupported, e.Kind);
            Assert.Contains("2.8.5", e.Message);
            Assert.Contains("2.8.11", e.Message);
            Assert.Contains("4.4.5", e.Message);
        }
        old.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(asked, p => p.Contains("export"));
        Assert.Equal(2, asked.Count);
    }

    [Fact]
    public async Task AnAnswerWithoutALengthIsStillCutOffAtTheLimit()
    {
        // qBittorrent always declares the length; a proxy in front of it may stream the answer in chunks
        // instead. A stand-in does that here, so the bound is checked while reading, not from the header.
        int port = QBittorrentFixture.FreePort();
        using var proxy = new HttpListener();
        proxy.Prefixes.Add($"http://127.0.0.1:{port}/");
        proxy.Start();
        var server = Task.Run(() =>
        {
            while (true)
            {
                HttpListenerContext context;
                try { context = proxy.GetContext(); }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
                string path = context.Request.Url!.AbsolutePath;
                byte[] body = path.EndsWith("app/webapiVersion") ? Encoding.UTF8.GetBytes("2.8.18")
                    : path.EndsWith("app/version") ? Encoding.UTF8.GetBytes("v4.5.0")
                    : new byte[int.Parse(context.Request.QueryString["hash"] ?? "0")];
                context.Response.SendChunked = true;
                try
                {
                    for (int at = 0; at < body.Length; at += 1000)
                    {
                        context.Response.OutputStream.Write(body, at, Math.Min(1000, body.Length - at));
                        context.Response.OutputStream.Flush();
                    }
                    context.Response.Close();
                }
                catch (HttpListenerException) { context.Response.Abort(); } // the client stopped reading
            }
        });
        using (var client = new QBittorrentClient(new QBittorrentConnection(new Uri($"http://127.0.0.1:{port}/"), null, null)))
        {
            // The stand-in answers a "hash" with that many bytes.
            Assert.Equal(5000, client.Export("5000", 5000).Length);
            var e = Assert.Throws<HashallException>(() => client.Export("50000", 5000));
            Assert.Equal("TorrentFileTooLarge", e.ErrorId);
            Assert.Contains("more than 5000 bytes", e.Message);
        }
        proxy.Stop();
        await server.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
