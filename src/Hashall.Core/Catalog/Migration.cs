namespace Hashall.Core.Catalog
{
    /// <summary>One forward-only schema step; applied once, in its own transaction.</summary>
    public sealed class Migration
    {
        public Migration(int version, string name, string sql)
        {
            Version = version;
            Name = name;
            Sql = sql;
        }

        public int Version { get; }
        public string Name { get; }
        public string Sql { get; }
    }
}
