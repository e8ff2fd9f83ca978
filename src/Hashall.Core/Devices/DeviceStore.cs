using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using Hashall.Core.Catalog;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Devices
{
    /// <summary>
    /// The devices table: listing, lookup by id, alias, identity or path, registration, aliases. Lookups
    /// are cheap; the totals (files, bytes, reclaimable bytes, plans) scan the device's files and are
    /// filled only on request (<see cref="WithTotals"/>), for what is shown to the user.
    /// </summary>
    public sealed class DeviceStore
    {
        private static readonly Regex AliasPattern = new Regex(@"^[A-Za-z][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant);

        private const string SelectDevices = @"
SELECT d.device_id, d.alias, d.identity, d.identity_kind, d.mount_point, d.mount_root, d.fs_type, d.source,
       d.first_seen, d.last_seen, d.last_scan
FROM devices d";

        private const string SelectTotals = @"
SELECT (SELECT count(*) FROM files f WHERE f.device_id = d.device_id AND f.status = 'active'),
       (SELECT coalesce(sum(size), 0) FROM (SELECT DISTINCT inode, size FROM files f
            WHERE f.device_id = d.device_id AND f.status = 'active')),
       max(0, (SELECT coalesce(sum(size * (n - 1)), 0) FROM (SELECT size, count(DISTINCT inode) AS n FROM files f
            WHERE f.device_id = d.device_id AND f.status = 'active' AND f.sha1 IS NOT NULL AND f.size > 0
            GROUP BY size, sha1 HAVING n > 1))
       -- less the inodes that already share their blocks with another one by a block clone (see CloneSharing)
       - (SELECT coalesce(sum(c.size), 0) FROM block_clones c WHERE c.device_id = d.device_id AND c.size > 0
            AND EXISTS (SELECT 1 FROM files f INDEXED BY ix_files_inode WHERE f.device_id = c.device_id AND f.inode = c.inode
                        AND f.status = 'active' AND f.size = c.size AND f.mtime_ns = c.mtime_ns AND f.sha1 = c.sha1)
            AND EXISTS (SELECT 1 FROM files b INDEXED BY ix_files_inode WHERE b.device_id = c.device_id AND b.inode = c.base_inode
                        AND b.status = 'active' AND b.size = c.size AND b.mtime_ns = c.base_mtime_ns AND b.sha1 = c.sha1))),
       (SELECT count(*) FROM link_plans p WHERE p.device_id = d.device_id AND EXISTS (SELECT 1 FROM link_action_paths x
            JOIN link_actions a ON a.action_id = x.action_id WHERE a.plan_id = p.plan_id AND x.status = 'pending')),
       (SELECT count(*) FROM link_plans p WHERE p.device_id = d.device_id AND p.executed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM link_action_paths x
            JOIN link_actions a ON a.action_id = x.action_id WHERE a.plan_id = p.plan_id AND x.status = 'pending'))
FROM devices d WHERE d.device_id = $id";

        private readonly CatalogDatabase _db;

        public DeviceStore(CatalogDatabase db) => _db = db;

        public IReadOnlyList<HashallDevice> List() => Query(SelectDevices + " ORDER BY d.device_id;", null);

        /// <summary>Fills each device's totals (what Get-HashallDevice shows); one pass over each device's files.</summary>
        public IReadOnlyList<HashallDevice> WithTotals(IReadOnlyList<HashallDevice> devices)
        {
            using var command = _db.Command(SelectTotals);
            var id = command.Parameters.Add("$id", SqliteType.Integer);
            try
            {
                foreach (var device in devices)
                {
                    id.Value = device.DeviceId;
                    using var r = command.ExecuteReader();
                    if (!r.Read())
                        continue;
                    device.Files = r.GetInt64(0);
                    device.Bytes = r.GetInt64(1);
                    device.ReclaimableBytes = r.GetInt64(2);
                    device.LinkPlansPending = r.GetInt64(3);
                    device.LinkPlansDone = r.GetInt64(4);
                }
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return devices;
        }

        public HashallDevice WithTotals(HashallDevice device) => WithTotals(new[] { device })[0];

        public HashallDevice? FindById(long id) => Single(SelectDevices + " WHERE d.device_id = $p;", id);

        public HashallDevice? FindByAlias(string alias) => Single(SelectDevices + " WHERE d.alias = $p;", alias);

        public HashallDevice? FindByIdentity(string identity) => Single(SelectDevices + " WHERE d.identity = $p;", identity);

        /// <summary>
        /// A device by id, alias, or any path on it. A path on a filesystem the catalog does not know
        /// yet is registered when <paramref name="register"/> is set, else it is an error.
        /// </summary>
        public HashallDevice Resolve(string selector, DeviceLocator locator, bool register)
        {
            var match = Find(selector, locator);
            if (match.Device != null)
                return match.Device;
            if (!register)
                throw new HashallException("DeviceNotCatalogued", HashallErrorKind.NotFound,
                    $"The filesystem holding '{match.Uncatalogued!.FullPath}' (mounted at '{match.Uncatalogued.Device.Mount.MountPoint}') is not in catalog '{_db.Path}' yet; scan it or name it with Set-HashallDevice.", selector);
            return FindById(Register(match.Uncatalogued!.Device))!;
        }

        /// <summary>
        /// A device by id, alias, or any path on it; for a path on a filesystem the catalog does not
        /// know yet, that path located (so a caller can ask before registering it).
        /// </summary>
        public DeviceMatch Find(string selector, DeviceLocator locator)
        {
            if (string.IsNullOrWhiteSpace(selector))
                throw new HashallException("DeviceSelectorEmpty", HashallErrorKind.InvalidArgument, "The device name is empty: give an alias, a device id or a path.", selector);
            if (long.TryParse(selector, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                return new DeviceMatch(FindById(id) ?? throw NotFound(selector, $"No device with id {id} in catalog '{_db.Path}'."), null);
            if (AliasPattern.IsMatch(selector) && FindByAlias(selector) is HashallDevice byAlias)
                return new DeviceMatch(byAlias, null);
            if (!LooksLikePath(selector))
                throw NotFound(selector, $"No device with alias '{selector}' in catalog '{_db.Path}'. Get-HashallDevice lists the known devices.");
            LocatedPath located;
            try
            {
                located = locator.Locate(selector);
            }
            catch (HashallException e) when (e.ErrorId == "PathNotFound")
            {
                throw NotFound(selector, $"'{selector}' is neither a device alias or id in catalog '{_db.Path}' nor an existing path.");
            }
            var existing = FindByIdentity(located.Device.Identity);
            return existing != null ? new DeviceMatch(existing, located) : new DeviceMatch(null, located);
        }

        /// <summary>
        /// Adds the device or refreshes where it is mounted now (the identity stays, the mount point may
        /// move); returns its id. Cheap: unlike the lookups, it does not total the device's files.
        /// </summary>
        public long Register(DeviceDescriptor device)
        {
            string now = CatalogTime.Format(DateTime.UtcNow);
            return _db.Write(tx =>
            {
                using var command = _db.Command(@"
INSERT INTO devices (identity, identity_kind, mount_point, mount_root, fs_type, source, device_number, first_seen, last_seen)
VALUES ($identity, $kind, $mount, $root, $fs, $source, $dev, $now, $now)
ON CONFLICT (identity) DO UPDATE SET
    -- a mount of the filesystem's root wins over a bind mount of a directory in it
    mount_point = CASE WHEN excluded.mount_root = '/' OR devices.mount_root <> '/' THEN excluded.mount_point ELSE devices.mount_point END,
    mount_root = CASE WHEN excluded.mount_root = '/' OR devices.mount_root <> '/' THEN excluded.mount_root ELSE devices.mount_root END,
    fs_type = excluded.fs_type,
    source = excluded.source, device_number = excluded.device_number, last_seen = excluded.last_seen;", tx);
                command.Parameters.AddWithValue("$identity", device.Identity);
                command.Parameters.AddWithValue("$kind", device.IdentityKind.ToString());
                command.Parameters.AddWithValue("$mount", device.Mount.MountPoint);
                command.Parameters.AddWithValue("$root", device.Mount.Root);
                command.Parameters.AddWithValue("$fs", device.Mount.FileSystemType);
                command.Parameters.AddWithValue("$source", device.Mount.Source);
                command.Parameters.AddWithValue("$dev", unchecked((long)device.Mount.DeviceNumber));
                command.Parameters.AddWithValue("$now", now);
                command.ExecuteNonQuery();
                using var id = _db.Command("SELECT device_id FROM devices WHERE identity = $identity;", tx);
                id.Parameters.AddWithValue("$identity", device.Identity);
                return (long)id.ExecuteScalar()!;
            });
        }

        /// <summary>Names a device; null or "" removes the alias.</summary>
        public HashallDevice SetAlias(long deviceId, string? alias)
        {
            if (!string.IsNullOrEmpty(alias))
                ValidateAlias(alias!);
            var owner = string.IsNullOrEmpty(alias) ? null : FindByAlias(alias!);
            if (owner != null && owner.DeviceId != deviceId)
                throw new HashallException("DeviceAliasInUse", HashallErrorKind.InvalidArgument,
                    $"The alias '{alias}' already names device {owner.DeviceId} ({owner.MountPoint}); aliases are unique, ignoring case.", alias);
            int changed = _db.Write(tx =>
            {
                using var command = _db.Command("UPDATE devices SET alias = $alias WHERE device_id = $id;", tx);
                command.Parameters.AddWithValue("$alias", string.IsNullOrEmpty(alias) ? (object)DBNull.Value : alias!);
                command.Parameters.AddWithValue("$id", deviceId);
                return command.ExecuteNonQuery();
            });
            if (changed == 0)
                throw NotFound(deviceId.ToString(CultureInfo.InvariantCulture), $"No device with id {deviceId} in catalog '{_db.Path}'.");
            return FindById(deviceId)!;
        }

        public static void ValidateAlias(string alias)
        {
            if (!AliasPattern.IsMatch(alias))
                throw new HashallException("DeviceAliasInvalid", HashallErrorKind.InvalidArgument,
                    $"'{alias}' is not a valid device alias: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter (so it cannot be mistaken for an id or a path).", alias);
        }

        private static bool LooksLikePath(string s) =>
            s.IndexOf('/') >= 0 || s.IndexOf('\\') >= 0 || s.StartsWith(".", StringComparison.Ordinal) || s.StartsWith("~", StringComparison.Ordinal)
            || (s.Length >= 2 && s[1] == ':');

        private static HashallException NotFound(string selector, string message) =>
            new HashallException("DeviceNotFound", HashallErrorKind.NotFound, message, selector);

        private HashallDevice? Single(string sql, object parameter)
        {
            var list = Query(sql, parameter);
            return list.Count == 0 ? null : list[0];
        }

        private IReadOnlyList<HashallDevice> Query(string sql, object? parameter)
        {
            using var command = _db.Command(sql);
            if (parameter != null)
                command.Parameters.AddWithValue("$p", parameter);
            var result = new List<HashallDevice>();
            try
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                    result.Add(Read(reader));
            }
            catch (SqliteException e)
            {
                throw CatalogDatabase.Translate(e, _db.Path);
            }
            return result;
        }

        private HashallDevice Read(SqliteDataReader r) => new HashallDevice
        {
            DeviceId = r.GetInt64(0),
            Alias = r.IsDBNull(1) ? null : r.GetString(1),
            Identity = r.GetString(2),
            IdentityKind = (DeviceIdentityKind)Enum.Parse(typeof(DeviceIdentityKind), r.GetString(3)),
            MountPoint = r.GetString(4),
            MountRoot = r.GetString(5),
            FileSystem = r.GetString(6),
            Source = r.GetString(7),
            FirstSeen = CatalogTime.Parse(r.GetString(8)),
            LastSeen = CatalogTime.Parse(r.GetString(9)),
            LastScan = r.IsDBNull(10) ? (DateTime?)null : CatalogTime.Parse(r.GetString(10)),
            Database = _db.Path,
        };
    }
}
