using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;

namespace Hashall.Core.QBittorrent
{
    /// <summary>
    /// qBittorrent Web API v2 (qBittorrent 4.5 – 5.x, Web API 2.8+). Sessions live in a cookie
    /// container (the cookie's name is configurable in qBittorrent, so it is never assumed); requests
    /// carry a Referer of the Web UI's own origin, which CSRF protection requires. The password is sent
    /// only to auth/login and never logged. The commands (stop, start, setLocation, recheck) answer
    /// 200 before qBittorrent has done anything: callers confirm by polling the torrents' state.
    /// </summary>
    public sealed class QBittorrentClient : IDisposable
    {
        public static readonly Version MinimumWebApi = new Version(2, 8);

        /// <summary>
        /// The Web API that added torrents/export: 2.8.11 (qBittorrent PR #16968, first released in
        /// qBittorrent 4.5.0, which reports 2.8.18). qBittorrent 4.4 (2.8.5) answers 404 to it.
        /// </summary>
        public static readonly Version ExportWebApi = new Version(2, 8, 11);

        private readonly QBittorrentConnection _connection;
        private readonly HttpClient _http;
        private bool _loggedIn;

        private System.Threading.CancellationToken _cancel;

        /// <param name="cancel">Stops a request in flight (Ctrl+C) instead of waiting out the timeout.</param>
        public QBittorrentClient(QBittorrentConnection connection, System.Threading.CancellationToken cancel = default)
        {
            _connection = connection;
            _cancel = cancel;
            var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false };
            _http = new HttpClient(handler) { BaseAddress = new Uri(connection.BaseUri, "api/v2/"), Timeout = connection.Timeout };
            _http.DefaultRequestHeaders.Referrer = connection.BaseUri;
        }

        /// <summary>
        /// Stops requests in flight. A rollback after Ctrl+C swaps in CancellationToken.None, so that
        /// putting the torrents back is not cut short by the very stop it answers.
        /// </summary>
        public System.Threading.CancellationToken Cancellation
        {
            get => _cancel;
            set => _cancel = value;
        }

        /// <summary>Which qBittorrent this is, for the catalog: its Web UI address.</summary>
        public string Instance => _connection.BaseUri.GetLeftPart(UriPartial.Path).ToLowerInvariant();

        public string? Version { get; private set; }
        public Version? WebApiVersion { get; private set; }

        /// <summary>Logs in when a user is given, then reads and checks the versions.</summary>
        public void Connect()
        {
            if (!string.IsNullOrEmpty(_connection.User))
                Login();
            Version = GetText("app/version").Trim();
            string api = GetText("app/webapiVersion").Trim();
            if (!System.Version.TryParse(api, out var parsed))
                throw new HashallException("QBittorrentUnexpectedReply", HashallErrorKind.InvalidData, $"qBittorrent at {_connection.BaseUri} answered '{api}' for its Web API version.", _connection.BaseUri);
            WebApiVersion = parsed;
            if (parsed < MinimumWebApi)
                throw new HashallException("QBittorrentTooOld", HashallErrorKind.NotSupported,
                    $"qBittorrent {Version} at {_connection.BaseUri} speaks Web API {api}; Hashall needs {MinimumWebApi} or later (qBittorrent 4.5+).", _connection.BaseUri);
        }

        public IReadOnlyList<TorrentInfo> Torrents(string? category = null, string? tag = null, IEnumerable<string>? hashes = null)
        {
            var query = new List<string>();
            if (category != null) query.Add("category=" + Uri.EscapeDataString(category));
            if (tag != null) query.Add("tag=" + Uri.EscapeDataString(tag));
            if (hashes != null) query.Add("hashes=" + string.Join("|", hashes));
            using var doc = GetJson("torrents/info" + (query.Count > 0 ? "?" + string.Join("&", query) : ""));
            return Read("torrents/info", () => doc.RootElement.EnumerateArray().Select(t => new TorrentInfo
            {
                Hash = Str(t, "hash"),
                InfohashV1 = Str(t, "infohash_v1"),
                InfohashV2 = Str(t, "infohash_v2"),
                Name = Str(t, "name"),
                SavePath = Str(t, "save_path"),
                ContentPath = Str(t, "content_path"),
                DownloadPath = Str(t, "download_path"),
                Category = Str(t, "category"),
                Tags = Str(t, "tags").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).Where(s => s.Length > 0).ToList(),
                State = Str(t, "state"),
                Progress = Number(t, "progress"),
                TotalSize = (long)Number(t, "total_size"),
                CompletionOn = UnixTime(Number(t, "completion_on")),
                SeedingTime = TimeSpan.FromSeconds(Math.Max(0, Number(t, "seeding_time"))),
                Ratio = Math.Max(0, Number(t, "ratio")),
                LastActivity = UnixTime(Number(t, "last_activity")),
            }).ToList());
        }

        public IReadOnlyList<TorrentFile> Files(string hash)
        {
            using var doc = GetJson("torrents/files?hash=" + Uri.EscapeDataString(hash));
            return Read("torrents/files", () => doc.RootElement.EnumerateArray()
                .Select(f => new TorrentFile { Name = Str(f, "name"), Size = (long)Number(f, "size"), Priority = f.TryGetProperty("priority", out _) ? (int)Number(f, "priority") : 1 }).ToList());
        }

        /// <summary>torrents/properties: piece size and count, privacy, as qBittorrent reports them.</summary>
        public IReadOnlyDictionary<string, string> Properties(string hash)
        {
            using var doc = GetJson("torrents/properties?hash=" + Uri.EscapeDataString(hash));
            return Read("torrents/properties", () => doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString()));
        }

        /// <summary>Web API 2.11 (qBittorrent 5) renamed pause/resume to stop/start; 4.x answers 404 to the new names.</summary>
        private bool UsesStopStart => WebApiVersion != null && WebApiVersion >= new Version(2, 11);

        /// <summary>Stops (pauses, before Web API 2.11) the torrents.</summary>
        public void Stop(IEnumerable<string> hashes) => Post(UsesStopStart ? "torrents/stop" : "torrents/pause", ("hashes", string.Join("|", hashes)));

        /// <summary>Starts (resumes, before Web API 2.11) the torrents.</summary>
        public void Start(IEnumerable<string> hashes) => Post(UsesStopStart ? "torrents/start" : "torrents/resume", ("hashes", string.Join("|", hashes)));

        /// <summary>
        /// Sets the torrents' save path. qBittorrent moves the data itself unless files already exist at
        /// the destination, which it then keeps (the source is left behind) and checks on recheck.
        /// </summary>
        public void SetLocation(IEnumerable<string> hashes, string location) =>
            Post("torrents/setLocation", ("hashes", string.Join("|", hashes)), ("location", location));

        /// <summary>
        /// Adds a .torrent (torrents/add, multipart) stopped, with the torrent's own layout (contentLayout
        /// Original, no automatic management) at <paramref name="savePath"/>, to be checked before it is
        /// started. Web API 2.11+ reads 'stopped', older ones 'paused': both are sent. qBittorrent answers
        /// 'Fails.' (200) for a torrent it already has or cannot add (TorrentAddFailed), 415 for an invalid file.
        /// </summary>
        public void AddTorrent(byte[] torrent, string fileName, string savePath, string? category, IEnumerable<string>? tags)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(torrent);
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-bittorrent");
            form.Add(file, "torrents", fileName);
            void Field(string name, string value) => form.Add(new StringContent(value), name);
            Field("savepath", savePath);
            Field("autoTMM", "false");
            Field("paused", "true");
            Field("stopped", "true");
            Field("skip_checking", "false");
            Field("contentLayout", "Original");
            Field("root_folder", "true"); // before contentLayout (Web API 2.7): keep the torrent's root folder
            if (!string.IsNullOrEmpty(category))
                Field("category", category!);
            string tagText = tags == null ? "" : string.Join(",", tags);
            if (tagText.Length > 0)
                Field("tags", tagText);
            using var response = Send(() => _http.PostAsync("torrents/add", form, _cancel));
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim();
            if (response.StatusCode == HttpStatusCode.UnsupportedMediaType)
                throw new HashallException("TorrentAddFailed", HashallErrorKind.InvalidData,
                    $"qBittorrent at {_connection.BaseUri} refused '{fileName}' as not a valid torrent file (415).", fileName);
            if (response.StatusCode == HttpStatusCode.Forbidden)
                EnsureSuccess(response, "torrents/add");
            if (!response.IsSuccessStatusCode || body == "Fails.")
                throw new HashallException("TorrentAddFailed", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} did not add '{fileName}' (answer: {(int)response.StatusCode} {body}); it answers so for a torrent it already has.", fileName);
        }

        /// <summary>Removes torrents from qBittorrent; their files stay on disk (deleteFiles=false).</summary>
        public void Delete(IEnumerable<string> hashes) =>
            Post("torrents/delete", ("hashes", string.Join("|", hashes)), ("deleteFiles", "false"));

        /// <summary>qBittorrent's default save path (app/defaultSavePath): where torrents go without a save path of their own.</summary>
        public string DefaultSavePath() => GetText("app/defaultSavePath").Trim();
        /// <summary>Adds a tag to the torrents (torrents/addTags; qBittorrent creates the tag).</summary>
        public void AddTags(IEnumerable<string> hashes, string tag) => Post("torrents/addTags", ("hashes", string.Join("|", hashes)), ("tags", tag));

        /// <summary>Removes a tag from the torrents (torrents/removeTags); the tag itself stays defined.</summary>
        public void RemoveTags(IEnumerable<string> hashes, string tag) => Post("torrents/removeTags", ("hashes", string.Join("|", hashes)), ("tags", tag));

        public void Recheck(IEnumerable<string> hashes) => Post("torrents/recheck", ("hashes", string.Join("|", hashes)));

        /// <summary>
        /// The torrent's .torrent file as qBittorrent keeps it (torrents/export), at most
        /// <paramref name="maxBytes"/> bytes (default: <see cref="Hashall.Core.Torrents.TorrentLimits.MaxFileSize"/>).
        /// Refused before the request on a Web API older than <see cref="ExportWebApi"/>
        /// (TorrentExportUnsupported); an unknown hash is TorrentNotFound; a torrent whose metadata
        /// qBittorrent does not have yet (a magnet link still fetching it) is TorrentExportFailed.
        /// </summary>
        public byte[] Export(string hash, int? maxBytes = null)
        {
            if (string.IsNullOrWhiteSpace(hash))
                throw new HashallException("TorrentHashEmpty", HashallErrorKind.InvalidArgument, "The torrent hash is empty.", hash);
            if (WebApiVersion == null)
                Connect();
            if (WebApiVersion! < ExportWebApi)
                throw new HashallException("TorrentExportUnsupported", HashallErrorKind.NotSupported,
                    $"qBittorrent {Version} at {_connection.BaseUri} speaks Web API {WebApiVersion}, which cannot export .torrent files; torrents/export needs Web API {ExportWebApi} or later (qBittorrent 4.5+). Give the .torrent file with -TorrentFile instead.", _connection.BaseUri);
            int limit = maxBytes ?? Hashall.Core.Torrents.TorrentLimits.Default.MaxFileSize;
            string path = "torrents/export?hash=" + Uri.EscapeDataString(hash);
            // Headers only first: the body is read below, bounded, within the same timeout.
            using var response = Send(() => _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, _cancel));
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                    $"qBittorrent at {_connection.BaseUri} has no torrent with hash '{hash}'.", hash);
            if (response.StatusCode == HttpStatusCode.Conflict)
                throw new HashallException("TorrentExportFailed", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} cannot export torrent '{hash}' (409){Detail(response)}; a torrent added by magnet link has no .torrent until its metadata is downloaded.", hash);
            EnsureSuccess(response, "torrents/export");
            if (response.Content.Headers.ContentLength is long declared && declared > limit)
                throw TooLarge(hash, declared, limit);
            return ReadBounded(response, hash, limit);
        }

        private byte[] ReadBounded(HttpResponseMessage response, string hash, int limit)
        {
            using var timeout = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(_cancel);
            timeout.CancelAfter(_connection.Timeout);
            try
            {
                using var body = response.Content.ReadAsStreamAsync().GetAwaiter().GetResult();
                using var memory = new System.IO.MemoryStream();
                var buffer = new byte[81920];
                int read;
                while ((read = body.ReadAsync(buffer, 0, buffer.Length, timeout.Token).GetAwaiter().GetResult()) > 0)
                {
                    if (memory.Length + read > limit)
                        throw TooLarge(hash, null, limit);
                    memory.Write(buffer, 0, read);
                }
                return memory.ToArray();
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
            {
                throw new OperationCanceledException(_cancel);
            }
            catch (OperationCanceledException e)
            {
                throw new HashallException("QBittorrentTimeout", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} did not send torrent '{hash}' within {_connection.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", _connection.BaseUri, e);
            }
            catch (Exception e) when (e is System.IO.IOException || e is HttpRequestException)
            {
                throw new HashallException("QBittorrentUnreachable", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} broke off sending torrent '{hash}': {e.InnerException?.Message ?? e.Message}", _connection.BaseUri, e);
            }
        }

        private HashallException TooLarge(string hash, long? declared, int limit) => new HashallException("TorrentFileTooLarge", HashallErrorKind.InvalidData,
            $"qBittorrent at {_connection.BaseUri} sent a .torrent for '{hash}' of {(declared is long d ? d.ToString(CultureInfo.InvariantCulture) + " bytes" : "more than " + limit.ToString(CultureInfo.InvariantCulture) + " bytes")}; the limit is {limit.ToString(CultureInfo.InvariantCulture)} bytes.", hash);

        private static string Detail(HttpResponseMessage response)
        {
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim();
            if (body.Length > 500)
                body = body.Substring(0, 500) + "…";
            return body.Length > 0 ? ": " + body : "";
        }

        public void Dispose() => _http.Dispose();

        private void Post(string path, params (string Name, string Value)[] fields)
        {
            using var form = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
            using var response = Send(() => _http.PostAsync(path, form, _cancel));
            if (response.IsSuccessStatusCode)
                return;
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim();
            if (response.StatusCode == HttpStatusCode.Forbidden)
                throw new HashallException(_loggedIn ? "QBittorrentForbidden" : "QBittorrentLoginRequired", HashallErrorKind.PermissionDenied,
                    $"qBittorrent at {_connection.BaseUri} refused '{path}' (403){(_loggedIn ? " after login" : ": give -Credential or set QBITTORRENT_USER and QBITTORRENT_PASS")}.", _connection.BaseUri);
            // 409 on setLocation: "Cannot make save path" or "Cannot write to directory".
            throw new HashallException("QBittorrentRequestFailed", HashallErrorKind.ResourceUnavailable,
                $"qBittorrent at {_connection.BaseUri} answered {(int)response.StatusCode} {response.ReasonPhrase} to '{path}'{(body.Length > 0 ? ": " + body : "")}.", _connection.BaseUri);
        }

        private void Login()
        {
            var form = new FormUrlEncodedContent(new[]
            {
                new KeyValuePair<string, string>("username", _connection.User!),
                new KeyValuePair<string, string>("password", _connection.Password ?? ""),
            });
            var response = Send(() => _http.PostAsync("auth/login", form, _cancel));
            string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim();
            if (response.StatusCode == HttpStatusCode.Forbidden)
                throw new HashallException("QBittorrentBanned", HashallErrorKind.PermissionDenied,
                    $"qBittorrent at {_connection.BaseUri} refuses this address after too many failed logins (403); it lifts the ban after its ban duration or a restart.", _connection.BaseUri);
            if (!response.IsSuccessStatusCode || body != "Ok.")
                throw new HashallException("QBittorrentLoginFailed", HashallErrorKind.PermissionDenied,
                    $"qBittorrent at {_connection.BaseUri} did not accept the login for user '{_connection.User}' (answer: {(int)response.StatusCode} {body}).", _connection.BaseUri);
            _loggedIn = true;
        }

        private string GetText(string path)
        {
            var response = Send(() => _http.GetAsync(path, _cancel));
            EnsureSuccess(response, path);
            return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        }

        /// <summary>403 (a login needed or refused) and any other failure of a GET, as clear errors naming the request.</summary>
        private void EnsureSuccess(HttpResponseMessage response, string path)
        {
            if (response.StatusCode == HttpStatusCode.Forbidden)
                throw new HashallException(_loggedIn ? "QBittorrentForbidden" : "QBittorrentLoginRequired", HashallErrorKind.PermissionDenied,
                    _loggedIn ? $"qBittorrent at {_connection.BaseUri} refused '{path}' (403) after login."
                              : $"qBittorrent at {_connection.BaseUri} needs a login: give -Credential or set QBITTORRENT_USER and QBITTORRENT_PASS.", _connection.BaseUri);
            if (!response.IsSuccessStatusCode)
                throw new HashallException("QBittorrentRequestFailed", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} answered {(int)response.StatusCode} {response.ReasonPhrase} to '{path}'.", _connection.BaseUri);
        }

        private JsonDocument GetJson(string path)
        {
            string text = GetText(path);
            try
            {
                return JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new HashallException("QBittorrentUnexpectedReply", HashallErrorKind.InvalidData, $"qBittorrent at {_connection.BaseUri} answered '{path}' with something that is not JSON: {e.Message}", _connection.BaseUri, e);
            }
        }

        private HttpResponseMessage Send(Func<Task<HttpResponseMessage>> request)
        {
            try
            {
                return request().GetAwaiter().GetResult();
            }
            catch (TaskCanceledException) when (_cancel.IsCancellationRequested)
            {
                throw new OperationCanceledException(_cancel); // stopped by the user, not a timeout
            }
            catch (TaskCanceledException e)
            {
                throw new HashallException("QBittorrentTimeout", HashallErrorKind.ResourceUnavailable,
                    $"qBittorrent at {_connection.BaseUri} did not answer within {_connection.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", _connection.BaseUri, e);
            }
            catch (HttpRequestException e)
            {
                throw new HashallException("QBittorrentUnreachable", HashallErrorKind.ResourceUnavailable,
                    $"Cannot reach qBittorrent at {_connection.BaseUri}: {e.InnerException?.Message ?? e.Message}", _connection.BaseUri, e);
            }
        }

        /// <summary>Reads a reply, turning an unexpected shape (an object for an array, a string for a number) into a clear error.</summary>
        private T Read<T>(string path, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (Exception e) when (e is InvalidOperationException || e is KeyNotFoundException || e is FormatException)
            {
                throw new HashallException("QBittorrentUnexpectedReply", HashallErrorKind.InvalidData,
                    $"qBittorrent at {_connection.BaseUri} answered '{path}' in an unexpected shape: {e.Message}", _connection.BaseUri, e);
            }
        }

        private static double Number(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

        /// <summary>A Unix time in seconds; null for qBittorrent's "never" (0, -1, or 2^32-1 from older versions).</summary>
        private static DateTime? UnixTime(double seconds) =>
            seconds <= 0 || seconds >= uint.MaxValue ? (DateTime?)null : DateTimeOffset.FromUnixTimeSeconds((long)seconds).UtcDateTime;

        private static string Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";
    }
}
