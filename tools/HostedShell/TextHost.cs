using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text.RegularExpressions;

namespace Hashall.HostedShell;

/// <summary>
/// A non-interactive PSHost that hands every line it is told (output of Out-Default, -WhatIf
/// messages, warnings, errors) to a sink, without VT styling. Shared by the shell and the tests.
/// </summary>
public sealed class TextHost : PSHost
{
    private readonly TextUI _ui;

    public TextHost(Action<string> sink, int width = 160) => _ui = new TextUI(sink, width);

    public override string Name => "HashallTextHost";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }

    private sealed class TextUI(Action<string> sink, int width) : PSHostUserInterface
    {
        // Custom hosts get VT styling even with OutputRendering PlainText: keep only the text.
        private static readonly Regex Ansi = new("\x1b\\[[0-9;?]*[A-Za-z]");
        private readonly RawUI _raw = new(width);

        public override PSHostRawUserInterface RawUI => _raw;
        public override void Write(string value) => sink(Ansi.Replace(value, ""));
        public override void Write(ConsoleColor fg, ConsoleColor bg, string value) => Write(value);
        public override void WriteLine(string value) => Write(value + "\n");
        public override void WriteErrorLine(string value) => Write("ERROR: " + value + "\n");
        public override void WriteDebugLine(string message) => Write("DEBUG: " + message + "\n");
        public override void WriteVerboseLine(string message) => Write("VERBOSE: " + message + "\n");
        public override void WriteWarningLine(string message) => Write("WARNING: " + message + "\n");
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override string ReadLine() => throw NoPrompt("");
        public override SecureString ReadLineAsSecureString() => throw NoPrompt("");
        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw NoPrompt(message);
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw NoPrompt(message);
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw NoPrompt(message);
        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) => throw NoPrompt(message);

        private static NotSupportedException NoPrompt(string message) =>
            new("This host cannot prompt (pass -Confirm:$false or the missing parameters): " + message);
    }

    private sealed class RawUI(int width) : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; }
        public override ConsoleColor ForegroundColor { get; set; }
        public override Size BufferSize { get; set; } = new(width, 9999);
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new(width, 100);
        public override Size MaxWindowSize => new(width, 100);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get; set; } = new(width, 100);
        public override string WindowTitle { get; set; } = "";
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    }
}
