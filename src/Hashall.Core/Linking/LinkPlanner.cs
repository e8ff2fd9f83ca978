using System;
using System.Collections.Generic;
using System.Linq;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.Core.Platform;

namespace Hashall.Core.Linking
{
    /// <summary>
    /// Builds a link plan from the catalog's duplicate groups (same size and full SHA-1, distinct inodes,
    /// one device). Per group the canonical inode is the one with the most links, then the oldest
    /// mtime, then the shortest path, then the first path in ordinal order; every other inode becomes
    /// one action that replaces each of its paths by a link of the canonical file.
    /// </summary>
    public sealed class LinkPlanner
    {
        private readonly CatalogDatabase _db;

        public LinkPlanner(CatalogDatabase db) => _db = db;

        public LinkPlan Build(HashallDevice device, string scope, long minimumSize, string? name)
        {
            var plan = new LinkPlan
            {
                Name = name,
                DeviceId = device.DeviceId,
                Device = device.Alias ?? device.MountPoint,
                Scope = scope,
                MinimumSize = minimumSize,
                Status = "preview",
                CreatedAt = DateTime.UtcNow,
                Database = _db.Path,
            };
            foreach (var group in new FileQuery(_db).Duplicates(new[] { device.DeviceId }, minimumSize))
            {
                var files = group.Files.Where(f => InScope(f.RelativePath, scope)).ToList();
                var inodes = files.GroupBy(f => f.Inode)
                    .Select(g => g.OrderBy(f => f.RelativePath, StringComparer.Ordinal).ToList())
                    .OrderByDescending(paths => paths.Max(f => f.LinkCount))
                    .ThenBy(paths => paths[0].MtimeNs)
                    .ThenBy(paths => paths.Min(f => f.RelativePath.Length))
                    .ThenBy(paths => paths[0].RelativePath, StringComparer.Ordinal)
                    .ToList();
                if (inodes.Count < 2)
                    continue;
                var canonical = inodes[0][0];
                foreach (var duplicate in inodes.Skip(1))
                {
                    // The inode's data is freed only when its last link goes: links outside the catalog keep it.
                    long links = duplicate.Max(f => f.LinkCount);
                    var action = new LinkAction
                    {
                        Sha1 = group.Sha1,
                        Size = group.Size,
                        CanonicalFileId = canonical.FileId,
                        CanonicalPath = canonical.RelativePath,
                        Canonical = canonical.FullName,
                        CanonicalInode = canonical.Inode,
                        CanonicalMtimeNs = canonical.MtimeNs,
                        DuplicateInode = duplicate[0].Inode,
                        DuplicateMtimeNs = duplicate[0].MtimeNs,
                        BytesSaved = links <= duplicate.Count ? group.Size : 0,
                        Reason = links <= duplicate.Count ? null : $"{links - duplicate.Count} link(s) of this inode are not in the catalog: linking frees nothing until they go too",
                        Database = _db.Path,
                    };
                    foreach (var f in duplicate)
                        action.Paths.Add(new LinkActionPath { FileId = f.FileId, Path = f.RelativePath, FullName = f.FullName });
                    plan.Actions.Add(action);
                }
            }
            plan.ActionCount = plan.Actions.Count;
            plan.PathCount = plan.Actions.Sum(a => a.Paths.Count);
            plan.Pending = plan.PathCount;
            plan.BytesPlanned = plan.Actions.Sum(a => a.BytesSaved);
            plan.LeftOut = CountWithoutFullHash(device.DeviceId, scope, minimumSize);
            return plan;
        }

        private static bool InScope(string path, string scope) =>
            scope.Length == 0 || path == scope || path.StartsWith(scope + "/", StringComparison.Ordinal);

        private long CountWithoutFullHash(long deviceId, string scope, long minimumSize)
        {
            using var command = _db.Command("SELECT count(*) FROM files WHERE device_id = $d AND status = 'active' AND sha1 IS NULL AND size >= $min"
                + FileStore.PrefixClause(scope) + ";");
            command.Parameters.AddWithValue("$d", deviceId);
            command.Parameters.AddWithValue("$min", minimumSize);
            FileStore.AddPrefixParameters(command, scope);
            return (long)command.ExecuteScalar()!;
        }
    }
}
