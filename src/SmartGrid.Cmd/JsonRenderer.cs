using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Cmd;

/// <summary>
/// <c>--output json</c>: one JSON document per command on one line (a stream of them at the prompt, one per
/// event for <c>cluster tail</c>), errors included, so <c>jq</c> reads every answer the same way. The node's
/// column names become the rows' keys in snake_case ("running at" → <c>running_at</c>); cells stay strings,
/// as the node sends them, so a key never changes type between answers.
/// </summary>
internal sealed class JsonRenderer(TextWriter output, string? host) : IRenderer
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Not HTML: addresses and log lines stay readable ("<", "&", "'" unescaped); JSON itself stays valid.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void Result(NodeRequest request, CommandOutput result) => Document(request.Command, ok: true, json =>
    {
        json.WriteStartArray("tables");
        foreach (var table in result.Tables)
        {
            var keys = Keys(table.Columns);
            json.WriteStartObject();
            json.WriteString("title", table.Title);
            json.WriteStartArray("columns");
            foreach (var key in keys) json.WriteStringValue(key);
            json.WriteEndArray();
            json.WriteStartArray("rows");
            foreach (var row in table.Rows)
            {
                json.WriteStartObject();
                for (var i = 0; i < keys.Count; i++) json.WriteString(keys[i], i < row.Count ? row[i] : "");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        Strings(json, "messages", result.Messages);
    });

    public void Change(MembershipChange change) => Write(json => JsonSerializer.Serialize(json, change));

    public void Error(string? command, string message, int exitCode) => Document(command, ok: false, json =>
    {
        json.WriteStartObject("error");
        json.WriteString("kind", exitCode switch
        {
            ExitCodes.Usage => "usage",
            ExitCodes.Unreachable => "unreachable",
            ExitCodes.Unauthorized => "unauthorized",
            _ => "failed",
        });
        json.WriteNumber("exit_code", exitCode);
        json.WriteString("message", message);
        json.WriteEndObject();
    });

    public void Help(IReadOnlyList<CommandSpec> commands) =>
        Document("help", ok: true, json =>
        {
            json.WriteStartArray("commands");
            foreach (var c in commands)
            {
                json.WriteStartObject();
                json.WriteString("command", c.FullName);
                json.WriteString("usage", c.Usage);
                json.WriteString("description", c.Description);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        });

    public void History(IReadOnlyList<string> history) => Document("history", ok: true, json => Strings(json, "history", history));

    /// <summary>Banners are for people: a script reading the documents gets none of them.</summary>
    public void Note(string line)
    {
    }

    /// <summary>The column names as keys: lower case, words joined by '_', each key unique.</summary>
    public static IReadOnlyList<string> Keys(IReadOnlyList<string> columns)
    {
        var keys = new List<string>(columns.Count);
        foreach (var column in columns)
        {
            var key = new StringBuilder();
            foreach (var ch in column.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(ch)) key.Append(ch);
                else if (key.Length > 0 && key[^1] != '_') key.Append('_');
            }
            var name = key.ToString().TrimEnd('_');
            if (name.Length == 0) name = $"column_{keys.Count + 1}";
            var unique = name;
            for (var n = 2; keys.Contains(unique); n++) unique = $"{name}_{n}";
            keys.Add(unique);
        }
        return keys;
    }

    private void Document(string? command, bool ok, Action<Utf8JsonWriter> body) => Write(json =>
    {
        json.WriteStartObject();
        if (command is null) json.WriteNull("command");
        else json.WriteString("command", command);
        if (host is null) json.WriteNull("host");
        else json.WriteString("host", host);
        json.WriteBoolean("ok", ok);
        body(json);
        json.WriteEndObject();
    });

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    /// <summary>Straight to the output, never through the console's line wrapping: a wrapped document is not JSON.</summary>
    private void Write(Action<Utf8JsonWriter> document)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Options)) document(json);
        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Write('\n');
        output.Flush();
    }
}
