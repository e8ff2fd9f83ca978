using System.Management.Automation;
using System.Xml.Linq;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// What you see is what you filter: every column a default view shows is a property of the object by
/// that label, holding the raw value (bytes where the view shows "2.9 MiB"). Objects come from real
/// cmdlets on real files, a real catalog and a real qBittorrent.
/// </summary>
public sealed class ViewTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private const int BigSize = 3 * 1024 * 1024;
    private readonly QBittorrentFixture _qbt;
    private readonly string _category = "v" + Guid.NewGuid().ToString("N")[..8]; // fits the Category column (10)
    private readonly int _seed = Random.Shared.Next(1, 1 << 30); // torrents unique in the qBittorrent the tests share

    public ViewTests(QBittorrentFixture qbt) => _qbt = qbt;

    /// <summary>One view of the built module's format file: its type and, per column, the label, the property it shows (null for a script block) and whether it shows bytes formatted.</summary>
    private sealed record View(string Name, string TypeName, IReadOnlyList<(string Label, string? Property, bool FormatsBytes)> Columns);

    private static List<View> Views()
    {
        var doc = XDocument.Load(Path.Combine(ModuleFolder.Path, "Hashall.Format.ps1xml"));
        var views = new List<View>();
        foreach (var view in doc.Descendants("View"))
        {
            string name = (string)view.Element("Name")!;
            string type = (string?)view.Element("ViewSelectedBy")?.Element("TypeName") ?? throw new Xunit.Sdk.XunitException($"View {name} selects no type.");
            var columns = new List<(string, string?, bool)>();
            if (view.Element("TableControl") is { } table)
            {
                var headers = table.Descendants("TableColumnHeader").ToList();
                var items = table.Descendants("TableColumnItem").ToList();
                Assert.True(headers.Count == items.Count, $"View {name}: {headers.Count} headers, {items.Count} columns.");
                for (int i = 0; i < headers.Count; i++)
                    columns.Add(Column(name, (string?)headers[i].Element("Label"), items[i]));
            }
            foreach (var item in view.Descendants("ListItem"))
                columns.Add(Column(name, (string?)item.Element("Label"), item));
            Assert.True(columns.Count > 0, $"View {name} has no columns this test knows how to read.");
            views.Add(new View(name, type, columns));
        }
        return views;
    }

    private static (string, string?, bool) Column(string view, string? label, XElement item)
    {
        string? script = (string?)item.Element("ScriptBlock");
        string? property = (string?)item.Element("PropertyName");
        label ??= property ?? throw new Xunit.Sdk.XunitException($"View {view}: a column with neither label nor property.");
        return (label, property, script != null && script.Contains("ByteSize]::Format"));
    }

    /// <summary>
    /// Files for every view: a payload with a hard link outside the seeding root (seeding/Show.S01,
    /// linked from library/, so a rehome plan of it is blocked), a duplicate pair (a/big.bin,
    /// b/big-copy.bin, 3 MiB), two torrents in qBittorrent under this test's category, and the stash
    /// and (as root, a tmpfs) pool devices.
    /// </summary>
    private (string Show, string Library, string ShowHash, string GoneHash, string Pool) MakeCatalog()
    {
        string show = Path.Combine(Data, "seeding", "Show.S01");
        Write("seeding/Show.S01/e0.mkv", 40_000, _seed);
        Write("seeding/Show.S01/e1.mkv", 30_000, _seed + 1);
        string library = Path.Combine(Data, "library");
        Directory.CreateDirectory(library);
        TempTree.Run("ln", Path.Combine(show, "e0.mkv"), Path.Combine(library, "Show e0.mkv"));
        Write("seeding/Gone.S01/e0.mkv", 20_000, _seed + 2);
        Write("a/big.bin", BigSize, 4);
        Write("b/big-copy.bin", BigSize, 4);
        Write("a/note.txt", 100, 5);
        Write("seeding/orphan.txt", 10, 6); // no torrent's: an orphan

        string pool = Capabilities.CanMountTmpfs ? Tree.MountTmpfs("pool") : Tree.Path("pool");
        Ps.Run("Set-HashallDevice $args[0] stash", Data).Succeeded();
        if (Capabilities.CanMountTmpfs)
            Ps.Run("Set-HashallDevice $args[0] pool", pool).Succeeded();

        Directory.CreateDirectory(Tree.Path("torrents"));
        var t1 = QBittorrentFixture.MakeTorrent(show, Tree.Path("torrents"));
        var t2 = QBittorrentFixture.MakeTorrent(Path.Combine(Data, "seeding", "Gone.S01"), Tree.Path("torrents"));
        _qbt.Add(t1.Torrent, t1.Hash, Path.Combine(Data, "seeding"), category: _category);
        _qbt.Add(t2.Torrent, t2.Hash, Path.Combine(Data, "seeding"), category: _category);
        return (show, library, t1.Hash, t2.Hash, pool);
    }

    /// <summary>Runs every cmdlet that writes a viewed type; returns one object per type name.</summary>
    private Dictionary<string, PSObject> ObjectsOfEveryViewedType()
    {
        var c = MakeCatalog();
        var output = Ps.Run(@"
$data, $qbt, $category, $show, $seeding, $pool, $isRoot, $aTorrent, $seedPath = $args
Invoke-HashallScan $data
Get-HashallFile
Get-HashallDuplicate
Get-HashallDevice
$plan = New-HashallLinkPlan -Device stash
$plan
Get-HashallLinkPlan -Id $plan.PlanId -Action
Invoke-HashallLinkPlan -Id $plan.PlanId -Confirm:$false
Undo-HashallLinkPlan -Id $plan.PlanId -Confirm:$false
Get-HashallPayload -Path $show
Sync-HashallPayload -Uri $qbt -Category $category
Get-HashallTorrent -Category $category
$check = @(Get-HashallTorrent -Category $category)[0] | Test-HashallTorrent -Uri $qbt
$check
$check.Files[0]
$found = @(Get-HashallTorrent -Category $category)[0] | Find-HashallTorrentData -Uri $qbt
$found
$found.Files[0]
# A torrent of folder a (catalogued, not in qBittorrent) seeded from its own files.
Find-HashallTorrentData $aTorrent | Add-HashallTorrent -Uri $qbt -SavePath $seedPath
Add-HashallSeedingRoot $seeding
Sync-HashallPayload -Uri $qbt | Out-Null
Get-HashallOrphan
Get-HashallOrphan | Remove-HashallOrphan -Uri $qbt -WhatIf
Get-HashallTorrent -Category $category | Set-HashallTorrentTag -Uri $qbt -Tag $category -Confirm:$false
if ($isRoot) {
    $rehome = New-RehomePlan -Category $category -Demote -SeedingRoot $seeding -StashDevice stash -PoolDevice pool -TargetPath $pool
} else {
    # No second filesystem without root: a plan as New-RehomePlan writes one.
    $rehome = [Hashall.Core.Rehome.RehomePlan]@{ Name = 'Show.S01'; Decision = 'Block'; TotalBytes = 70000 }
    $rehome.Reasons.Add('external consumer')
}
$rehome
$rehome | Where-Object Decision -eq 'Block' | Invoke-RehomePlan -Uri $qbt -Confirm:$false
$rehome | Where-Object Decision -eq 'Block' | Invoke-RehomePlan -Uri $qbt -Confirm:$false -Summary
", Data, _qbt.Url, _category, c.Show, Path.Combine(Data, "seeding"), c.Pool, Capabilities.CanMountTmpfs,
    QBittorrentFixture.MakeTorrent(Path.Combine(Data, "a"), Tree.Path("torrents")).Torrent, Tree.Path("seeded")).Succeeded().Output;
        var byType = new Dictionary<string, PSObject>();
        foreach (var o in output)
            byType.TryAdd(o.TypeNames[0], o);
        return byType;
    }

    /// <summary>Every property of an object with its value, read in the session (script properties run there).</summary>
    private Dictionary<string, object?> PropertiesOf(PSObject obj) =>
        Ps.Run("$args[0].PSObject.Properties | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Value = $_.Value } }", obj).Succeeded().Output
            .ToDictionary(p => (string)p.Properties["Name"].Value, p => p.Properties["Value"].Value is PSObject v ? v.BaseObject : (object?)p.Properties["Value"].Value,
                StringComparer.OrdinalIgnoreCase);

    [RequiresFact(Needs.QBittorrent)]
    public void EveryColumnLabelOfEveryDefaultViewIsAPropertyOfItsObject()
    {
        var objects = ObjectsOfEveryViewedType();
        var views = Views();
        Assert.True(views.Count >= 13, $"Only {views.Count} views read from the format file.");
        var problems = new List<string>();
        foreach (var view in views)
        {
            if (!objects.TryGetValue(view.TypeName, out var obj))
            {
                problems.Add($"{view.Name}: no {view.TypeName} object (make this test produce one with the cmdlet that writes it)");
                continue;
            }
            var properties = PropertiesOf(obj);
            foreach (var (label, shown, formatsBytes) in view.Columns)
            {
                if (!properties.TryGetValue(label, out var value))
                    problems.Add($"{view.Name}: column '{label}' is not a property of {view.TypeName}");
                else if (shown != null && !Equals(value, properties.GetValueOrDefault(shown)))
                    problems.Add($"{view.Name}: column '{label}' shows {shown} ({properties.GetValueOrDefault(shown)}) but the property '{label}' holds something else ({value})");
                else if (formatsBytes && !(value is long or int or double))
                    problems.Add($"{view.Name}: column '{label}' shows bytes formatted but the property holds {value?.GetType().Name ?? "null"}, not the number");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void FilteringByAColumnLabelFindsWhatTheColumnShows()
    {
        var c = MakeCatalog();
        string a = Path.Combine(Data, "a"), b = Path.Combine(Data, "b");
        var r = Ps.Run(@"
$data, $qbt, $category, $show, $showHash, $a, $b = $args
$o = [ordered]@{}
$o.ScanThroughput = @(Invoke-HashallScan $data | Where-Object Throughput -gt 0).Count
$o.Links = @(Get-HashallFile | Where-Object Links -gt 1 | ForEach-Object FullName) -join '|'
$o.Big = @(Get-HashallFile | Where-Object Size -gt 1MB | ForEach-Object Name) -join '|'
$device = Get-HashallDevice stash
$o.DeviceById = (Get-HashallDevice | Where-Object DeviceId -eq $device.DeviceId).Alias
$o.DeviceBySize = @(Get-HashallDevice | Where-Object Size -gt 6MB | Where-Object Reclaimable -eq 3MB).Count
$o.DupByPath = @(Get-HashallDuplicate | Where-Object Paths -like '*big-copy*').Count
$o.DupByCounts = @(Get-HashallDuplicate | Where-Object InodeCount -eq 2 | Where-Object FileCount -eq 2 | Where-Object Reclaimable -eq 3MB | Where-Object Size -eq 3MB).Count
$plan = New-HashallLinkPlan -Device stash
$o.Plan = @(Get-HashallLinkPlan | Where-Object PlanId -eq $plan.PlanId | Where-Object Planned -eq 3MB | Where-Object ActionCount -eq 1 | Where-Object PathCount -eq 1 | Where-Object CreatedAt -le ([datetime]::UtcNow)).Count
$action = Get-HashallLinkPlan -Id $plan.PlanId -Action
$duplicate = @([IO.Path]::Combine($a, 'big.bin'), [IO.Path]::Combine($b, 'big-copy.bin')) | Where-Object { $_ -ne $action.Canonical }
$o.ActionByDuplicate = @(Get-HashallLinkPlan -Id $plan.PlanId -Action | Where-Object Duplicate -eq $duplicate | Where-Object ActionId -eq $action.ActionId).Count
$o.Linked = @(Invoke-HashallLinkPlan -Id $plan.PlanId -Confirm:$false | Where-Object Reclaimed -eq 3MB).Count
$o.PlanReclaimed = @(Get-HashallLinkPlan | Where-Object Reclaimed -eq 3MB).Count
$o.Undone = @(Undo-HashallLinkPlan -Id $plan.PlanId -Confirm:$false | Where-Object Copied -eq 3MB | Where-Object Undone -eq 1).Count
$o.Payload = @(Get-HashallPayload -Path $show | Where-Object Size -eq 70000 | Where-Object FileCount -eq 2 | Where-Object MissingCount -eq 0).Count
$o.Sync = @(Sync-HashallPayload -Uri $qbt -Category $category | Where-Object qBittorrent -like '*.*' | Where-Object Torrents -eq 2).Count
$o.TorrentByPayload = @(Get-HashallTorrent -Category $category | Where-Object Payload -eq (Get-HashallPayload -Path $show).PayloadHash).Count
$state = (Get-HashallTorrent -TorrentHash $showHash).State
$o.TorrentByStatus = @(Get-HashallTorrent -Category $category | Where-Object Status -eq $state | Where-Object TorrentHash -eq $showHash).Count
$check = Get-HashallTorrent -TorrentHash $showHash | Test-HashallTorrent -Uri $qbt -Force
$o.CheckByColumns = @($check | Where-Object Pieces -gt 0 | Where-Object Bad -eq 0 | Where-Object Read -eq 70000 | Where-Object Status -eq Complete).Count
$o.FileBySize = @($check.Files | Where-Object Size -gt 35000 | Where-Object Status -eq Complete).Count
$found = Get-HashallTorrent -TorrentHash $showHash | Find-HashallTorrentData -Uri $qbt
$o.FoundByColumns = @($found | Where-Object Status -eq Complete | Where-Object Share -eq 1 | Where-Object Matched -eq 70000 | Where-Object Read -gt 0 | Where-Object Device -eq stash).Count
$o.FoundFileBySize = @($found.Files | Where-Object Size -eq 40000 | Where-Object Verified | Where-Object MatchedPath -like '*e0.mkv').Count
[pscustomobject]$o
", Data, _qbt.Url, _category, c.Show, c.ShowHash, a, b).Succeeded();
        var o = r.Output.Single();
        string Get(string name) => o.Properties[name].Value?.ToString() ?? "";
        Assert.Equal("1", Get("ScanThroughput"));
        Assert.Equal(new[] { Path.Combine(c.Library, "Show e0.mkv"), Path.Combine(c.Show, "e0.mkv") }.Order(), Get("Links").Split('|').Order());
        Assert.Equal(["big-copy.bin", "big.bin"], Get("Big").Split('|').Order());
        Assert.Equal("stash", Get("DeviceById"));
        Assert.Equal("1", Get("DeviceBySize"));
        Assert.Equal("1", Get("DupByPath"));
        Assert.Equal("1", Get("DupByCounts"));
        Assert.Equal("1", Get("Plan"));
        Assert.Equal("1", Get("ActionByDuplicate"));
        Assert.Equal("1", Get("Linked"));
        Assert.Equal("1", Get("PlanReclaimed"));
        Assert.Equal("1", Get("Undone"));
        Assert.Equal("1", Get("Payload"));
        Assert.Equal("1", Get("Sync"));
        Assert.Equal("1", Get("TorrentByPayload"));
        Assert.Equal("1", Get("TorrentByStatus"));
        Assert.Equal("1", Get("CheckByColumns"));
        Assert.Equal("1", Get("FileBySize"));
        Assert.Equal("1", Get("FoundByColumns"));
        Assert.Equal("1", Get("FoundFileBySize"));

        _qbt.Delete(c.GoneHash);
        var gone = Ps.Run(@"
$qbt, $category = $args
Sync-HashallPayload -Uri $qbt -Category $category | Out-Null
Get-HashallTorrent -Category $category -IncludeGone | Where-Object Status -eq 'gone' | ForEach-Object TorrentHash
", _qbt.Url, _category).Succeeded().Output;
        Assert.Equal(c.GoneHash, Assert.Single(gone).BaseObject);

        if (!Capabilities.CanMountTmpfs)
            return; // the pool is a tmpfs of its own
        var rehome = Ps.Run(@"
$qbt, $category, $seeding, $pool = $args
$o = [ordered]@{}
$plans = New-RehomePlan -Category $category -Demote -SeedingRoot $seeding -StashDevice stash -PoolDevice pool -TargetPath $pool
$o.Blocked = @($plans | Where-Object Size -eq 70000 | Where-Object TorrentCount -eq 1 | Where-Object Reasons -like '*external consumer*' | ForEach-Object Name) -join '|'
$results = $plans | Where-Object Decision -eq 'Block' | Invoke-RehomePlan -Uri $qbt -Confirm:$false
$o.Result = @($results | Where-Object Detail -like '*external consumer*' | Where-Object Copied -eq 0 | Where-Object TorrentCount -eq 0).Count
$o.Summary = @($plans | Where-Object Decision -eq 'Block' | Invoke-RehomePlan -Uri $qbt -Confirm:$false -Summary | Where-Object Copied -eq 0 | Where-Object Blocked -eq 1).Count
[pscustomobject]$o
", _qbt.Url, _category, Path.Combine(Data, "seeding"), c.Pool).Succeeded().Output.Single();
        Assert.Equal("Show.S01", rehome.Properties["Blocked"].Value);
        Assert.Equal(1, rehome.Properties["Result"].Value);
        Assert.Equal(1, rehome.Properties["Summary"].Value);
    }

    [Fact]
    public void NoPropertyTheModuleAddsBindsToAParameterFromThePipeline()
    {
        // A device with an Id property would run plan N when piped to Invoke-HashallLinkPlan (its -Id binds by property name).
        var types = XDocument.Load(Path.Combine(ModuleFolder.Path, "Hashall.Types.ps1xml"));
        var added = types.Descendants("Type").SelectMany(t => t.Descendants("Members").Elements().Select(m => ((string)t.Element("Name")!, (string)m.Element("Name")!))).ToList();
        Assert.NotEmpty(added);
        var bound = Ps.Run(@"
foreach ($command in Get-Command -Module Hashall) {
    foreach ($p in $command.Parameters.Values) {
        if ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipelineByPropertyName }) {
            $p.Name; $p.Aliases
        }
    }
}").Succeeded().Output.Select(o => o.BaseObject.ToString()!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Contains("PlanId", bound);
        Assert.Contains("Id", bound);
        var clashes = added.Where(m => bound.Contains(m.Item2)).Select(m => $"{m.Item1}.{m.Item2}").ToList();
        Assert.True(clashes.Count == 0, "Added properties that bind from the pipeline: " + string.Join(", ", clashes));
    }
}
