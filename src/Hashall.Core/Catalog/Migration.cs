using System;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// One forward-only schema step; applied once, in its own transaction: its SQL, then (when it has
    /// one) a C# step for what SQL cannot compute, such as hashes, in the same transaction.
    /// </summary>
    public sealed class Migration
    {
        public Migration(int version, string name, string sql, Action<SqliteConnection, SqliteTransaction>? step = null)
        {
            Version = version;
            Name = name;
            Sql = sql;
            Step = step;
        }

        public int Version { get; }
        public string Name { get; }
        public string Sql { get; }
        /// <summary>Runs after <see cref="Sql"/>, in the migration's transaction (every command must use it).</summary>
        public Action<SqliteConnection, SqliteTransaction>? Step { get; }
    }
}
