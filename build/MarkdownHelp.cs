// MSBuild inline task (RoslynCodeTaskFactory): PlatyPS-format markdown in docs/ to PowerShell help.
// Builds without pwsh or PlatyPS; build.ps1 uses PlatyPS's own Export-MamlCommandHelp where installed.
// Cmdlet pages (front matter "document type: cmdlet") become one MAML file, <assembly>-Help.xml;
// about_*.md pages become about_*.help.txt. A page missing a synopsis, a description, an example or
// a parameter description fails the build, naming the page.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class ConvertMarkdownHelp : Task
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    [Required] public string DocsDirectory { get; set; }
    [Required] public string OutputDirectory { get; set; }
    [Required] public string AssemblyFileName { get; set; }

    public override bool Execute()
    {
        Directory.CreateDirectory(OutputDirectory);
        var commands = new List<XElement>();
        foreach (var file in Directory.GetFiles(DocsDirectory, "*.md").OrderBy(f => f, StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            var front = FrontMatter(lines, out int bodyStart);
            string name = Path.GetFileNameWithoutExtension(file);
            if (front.TryGetValue("document type", out var type) && type == "cmdlet")
            {
                var element = CommandElement(file, lines.Skip(bodyStart).ToList());
                if (element != null)
                    commands.Add(element);
            }
            else if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
            {
                File.WriteAllText(Path.Combine(OutputDirectory, name + ".help.txt"), AboutText(lines.Skip(bodyStart).ToList()), new UTF8Encoding(false));
            }
        }
        if (Log.HasLoggedErrors)
            return false;
        var doc = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev), commands));
        string target = Path.Combine(OutputDirectory, AssemblyFileName + "-Help.xml");
        string text = doc.Declaration + "\n" + doc.ToString() + "\n";
        if (!File.Exists(target) || File.ReadAllText(target) != text)
            File.WriteAllText(target, text, new UTF8Encoding(false));
        return true;
    }

    private static Dictionary<string, string> FrontMatter(string[] lines, out int bodyStart)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        bodyStart = 0;
        if (lines.Length == 0 || lines[0].Trim() != "---")
            return result;
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Trim() == "---")
            {
                bodyStart = i + 1;
                break;
            }
            int colon = lines[i].IndexOf(':');
            if (colon > 0)
                result[lines[i].Substring(0, colon).Trim()] = lines[i].Substring(colon + 1).Trim();
        }
        return result;
    }

    /// <summary>Sections by "## " heading, each with its "### " subsections (heading "" holds the text before the first).</summary>
    private static Dictionary<string, List<KeyValuePair<string, List<string>>>> Sections(List<string> body, out string title)
    {
        var sections = new Dictionary<string, List<KeyValuePair<string, List<string>>>>(StringComparer.OrdinalIgnoreCase);
        title = "";
        List<KeyValuePair<string, List<string>>> current = null;
        List<string> sub = null;
        bool inFence = false;
        foreach (var line in body)
        {
            if (line.TrimStart().StartsWith("```"))
                inFence = !inFence;
            if (!inFence && line.StartsWith("# "))
            {
                title = line.Substring(2).Trim();
                continue;
            }
            if (!inFence && line.StartsWith("## "))
            {
                current = new List<KeyValuePair<string, List<string>>>();
                sections[line.Substring(3).Trim()] = current;
                sub = new List<string>();
                current.Add(new KeyValuePair<string, List<string>>("", sub));
                continue;
            }
            if (!inFence && line.StartsWith("### ") && current != null)
            {
                sub = new List<string>();
                current.Add(new KeyValuePair<string, List<string>>(line.Substring(4).Trim(), sub));
                continue;
            }
            sub?.Add(line);
        }
        return sections;
    }

    /// <summary>Text paragraphs (blank-line separated, fenced code excluded unless asked), joined lines.</summary>
    private static List<string> Paragraphs(IEnumerable<string> lines, bool includeCode = false)
    {
        var result = new List<string>();
        var para = new List<string>();
        bool inFence = false;
        foreach (var raw in lines)
        {
            if (raw.TrimStart().StartsWith("```"))
            {
                Flush(result, para, inFence);
                inFence = !inFence;
                continue;
            }
            if (inFence)
            {
                if (includeCode)
                    para.Add(raw);
                continue;
            }
            if (raw.Trim().Length == 0)
                Flush(result, para, false);
            else
                para.Add(raw.Trim());
        }
        Flush(result, para, inFence);
        return result;
    }

    private static void Flush(List<string> result, List<string> para, bool code)
    {
        if (para.Count > 0)
            result.Add(string.Join(code ? "\n" : " ", para));
        para.Clear();
    }

    private static List<string> FencedBlocks(IEnumerable<string> lines, out List<string> outside)
    {
        var blocks = new List<string>();
        outside = new List<string>();
        List<string> block = null;
        foreach (var line in lines)
        {
            if (line.TrimStart().StartsWith("```"))
            {
                if (block == null)
                    block = new List<string>();
                else
                {
                    blocks.Add(string.Join("\n", block));
                    block = null;
                }
                continue;
            }
            if (block != null)
                block.Add(line);
            else
                outside.Add(line);
        }
        return blocks;
    }

    private static XElement Description(IEnumerable<string> paragraphs) =>
        new XElement(Maml + "description", paragraphs.Select(p => new XElement(Maml + "para", p)));

    private XElement CommandElement(string file, List<string> body)
    {
        var sections = Sections(body, out string name);
        string page = Path.GetFileName(file);
        List<string> Text(string section) =>
            sections.TryGetValue(section, out var s) ? Paragraphs(s.Where(kv => kv.Key == "").SelectMany(kv => kv.Value)) : new List<string>();

        var synopsis = Text("SYNOPSIS");
        var description = Text("DESCRIPTION");
        if (string.IsNullOrEmpty(name) || !name.Contains("-"))
            Log.LogError($"{page}: no '# Verb-Noun' title.");
        if (synopsis.Count == 0)
            Log.LogError($"{page}: the SYNOPSIS section is empty.");
        if (description.Count == 0)
            Log.LogError($"{page}: the DESCRIPTION section is empty.");

        var parameters = new List<Parameter>();
        if (sections.TryGetValue("PARAMETERS", out var paramSections))
        {
            foreach (var kv in paramSections.Where(kv => kv.Key.StartsWith("-")))
            {
                var yaml = FencedBlocks(kv.Value, out var prose).FirstOrDefault() ?? "";
                var p = Parameter.Parse(kv.Key.Substring(1), yaml, Paragraphs(prose));
                if (p.Description.Count == 0)
                    Log.LogError($"{page}: parameter -{p.Name} has no description.");
                parameters.Add(p);
            }
        }

        var examples = new List<XElement>();
        if (sections.TryGetValue("EXAMPLES", out var exampleSections))
        {
            foreach (var kv in exampleSections.Where(kv => kv.Key.Length > 0))
            {
                var blocks = FencedBlocks(kv.Value, out var prose);
                if (blocks.Count == 0)
                {
                    Log.LogError($"{page}: example '{kv.Key}' has no code block.");
                    continue;
                }
                var remarks = Paragraphs(prose).ToList();
                remarks.AddRange(blocks.Skip(1)); // sample output
                examples.Add(new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- {kv.Key} --------------------------"),
                    new XElement(Dev + "code", blocks[0]),
                    new XElement(Dev + "remarks", remarks.Select(r => new XElement(Maml + "para", r)))));
            }
        }
        if (examples.Count == 0)
            Log.LogError($"{page}: no example.");

        var setNames = parameters.SelectMany(p => p.Sets.Select(s => s.Name)).Where(n => n != "(All)").Distinct().ToList();
        if (setNames.Count == 0)
            setNames.Add("(All)");
        var syntax = setNames.Select(set => new XElement(Command + "syntaxItem",
            new XElement(Maml + "name", name),
            parameters.Where(p => p.Sets.Any(s => s.Name == set || s.Name == "(All)"))
                .Select(p => p.Element(p.Sets.First(s => s.Name == set || s.Name == "(All)")))));

        string verb = name.Split('-')[0], noun = name.Contains("-") ? name.Substring(name.IndexOf('-') + 1) : "";
        return new XElement(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", name),
                new XElement(Command + "verb", verb),
                new XElement(Command + "noun", noun),
                Description(synopsis)),
            Description(description),
            new XElement(Command + "syntax", syntax),
            // The parameter list has one "required" per parameter: required in any set, as PlatyPS exports it.
            new XElement(Command + "parameters", parameters.Select(p => p.Element(Summary(p.Sets)))),
            new XElement(Command + "inputTypes", TypeEntries(sections, "INPUTS", "inputType")),
            new XElement(Command + "returnValues", TypeEntries(sections, "OUTPUTS", "returnValue")),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Text("NOTES").Select(p => new XElement(Maml + "para", p)))),
            new XElement(Command + "examples", examples),
            new XElement(Command + "relatedLinks", RelatedLinks(sections)));
    }

    private static IEnumerable<XElement> TypeEntries(Dictionary<string, List<KeyValuePair<string, List<string>>>> sections, string section, string element)
    {
        if (!sections.TryGetValue(section, out var subs))
            yield break;
        foreach (var kv in subs.Where(kv => kv.Key.Length > 0))
            yield return new XElement(Command + element,
                new XElement(Dev + "type", new XElement(Maml + "name", kv.Key)),
                Description(Paragraphs(kv.Value)));
    }

    private static IEnumerable<XElement> RelatedLinks(Dictionary<string, List<KeyValuePair<string, List<string>>>> sections)
    {
        if (!sections.TryGetValue("RELATED LINKS", out var subs))
            yield break;
        foreach (var line in subs.SelectMany(kv => kv.Value))
        {
            var m = Regex.Match(line, @"\[(?<text>[^\]]+)\]\((?<uri>[^)]*)\)");
            if (m.Success)
            {
                string uri = m.Groups["uri"].Value;
                yield return new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", m.Groups["text"].Value),
                    new XElement(Maml + "uri", uri.StartsWith("http") ? uri : ""));
            }
        }
    }

    private static string AboutText(List<string> body)
    {
        var sb = new StringBuilder();
        bool inFence = false;
        foreach (var line in body)
        {
            if (line.TrimStart().StartsWith("```"))
            {
                inFence = !inFence;
                continue;
            }
            if (inFence)
                sb.Append("        ").AppendLine(line);
            else if (line.StartsWith("# "))
                sb.AppendLine("TOPIC").Append("    ").AppendLine(line.Substring(2).Trim());
            else if (line.StartsWith("## ") || line.StartsWith("### "))
                sb.AppendLine().AppendLine(line.TrimStart('#').Trim().ToUpperInvariant());
            else
                sb.AppendLine(line.Length == 0 ? "" : "    " + line);
        }
        return sb.ToString();
    }

    /// <summary>A parameter's first set, marked required when any of its sets requires it.</summary>
    private static ParameterSet Summary(List<ParameterSet> sets)
    {
        var first = sets.FirstOrDefault() ?? new ParameterSet();
        return new ParameterSet { Name = first.Name, Position = first.Position, Required = sets.Any(s => s.Required), ByValue = first.ByValue, ByPropertyName = first.ByPropertyName };
    }

    private sealed class ParameterSet
    {
        public string Name = "(All)";
        public string Position = "Named";
        public bool Required;
        public bool ByValue;
        public bool ByPropertyName;
    }

    private sealed class Parameter
    {
        public string Name;
        public string Type = "System.Object";
        public string DefaultValue = "None";
        public bool Wildcards;
        public List<string> Aliases = new List<string>();
        public List<ParameterSet> Sets = new List<ParameterSet>();
        public List<string> Description;

        /// <summary>The small YAML subset PlatyPS writes for a parameter: scalars, lists of scalars, ParameterSets.</summary>
        public static Parameter Parse(string name, string yaml, List<string> description)
        {
            var p = new Parameter { Name = name, Description = description };
            string listKey = null;
            ParameterSet set = null;
            foreach (var raw in yaml.Split('\n'))
            {
                string line = raw.TrimEnd();
                if (line.Length == 0)
                    continue;
                if (!line.StartsWith(" ") && !line.StartsWith("-"))
                {
                    int colon = line.IndexOf(':');
                    string key = line.Substring(0, colon).Trim(), value = line.Substring(colon + 1).Trim().Trim('\'');
                    listKey = value.Length == 0 ? key : null;
                    switch (key)
                    {
                        case "Type": p.Type = value; break;
                        case "DefaultValue": p.DefaultValue = value.Length == 0 ? "None" : value; break;
                        case "SupportsWildcards": p.Wildcards = value == "true"; break;
                    }
                    continue;
                }
                string item = line.TrimStart();
                bool newItem = item.StartsWith("- ");
                if (newItem)
                    item = item.Substring(2);
                if (listKey == "Aliases" && newItem)
                    p.Aliases.Add(item.Trim());
                else if (listKey == "ParameterSets")
                {
                    if (newItem)
                        p.Sets.Add(set = new ParameterSet());
                    int colon = item.IndexOf(':');
                    if (set == null || colon < 0)
                        continue;
                    string key = item.Substring(0, colon).Trim(), value = item.Substring(colon + 1).Trim();
                    switch (key)
                    {
                        case "Name": set.Name = value; break;
                        case "Position": set.Position = value; break;
                        case "IsRequired": set.Required = value == "true"; break;
                        case "ValueFromPipeline": set.ByValue = value == "true"; break;
                        case "ValueFromPipelineByPropertyName": set.ByPropertyName = value == "true"; break;
                    }
                }
            }
            if (p.Sets.Count == 0)
                p.Sets.Add(new ParameterSet());
            return p;
        }

        public XElement Element(ParameterSet set)
        {
            string pipeline = set.ByValue && set.ByPropertyName ? "True (ByPropertyName, ByValue)"
                : set.ByValue ? "True (ByValue)" : set.ByPropertyName ? "True (ByPropertyName)" : "False";
            string shortType = Type.Substring(Type.LastIndexOf('.') + 1);
            bool isSwitch = shortType == "SwitchParameter";
            return new XElement(Command + "parameter",
                new XAttribute("required", set.Required ? "true" : "false"),
                new XAttribute("variableLength", Type.EndsWith("[]") ? "true" : "false"),
                new XAttribute("globbing", Wildcards ? "true" : "false"),
                new XAttribute("pipelineInput", pipeline),
                new XAttribute("position", set.Position == "Named" ? "named" : set.Position),
                new XAttribute("aliases", Aliases.Count == 0 ? "none" : string.Join(", ", Aliases)),
                new XElement(Maml + "name", Name),
                new XElement(Maml + "description", Description.Select(d => new XElement(Maml + "para", d))),
                isSwitch ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), shortType),
                new XElement(Dev + "type", new XElement(Maml + "name", Type), new XElement(Maml + "uri")),
                new XElement(Dev + "defaultValue", DefaultValue));
        }
    }
}
