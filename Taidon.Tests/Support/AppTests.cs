using System.Net.Http.Json;
using System.Text.Json;

namespace Taidon.Tests.Support;

/// <summary>A test class with its own app (and database) for all its tests.</summary>
public abstract class AppTests(string purpose, IReadOnlyDictionary<string, string?>? settings = null) : IAsyncLifetime
{
    protected TaidonAppFactory App { get; private set; } = null!;

    public async Task InitializeAsync() => App = await TaidonAppFactory.CreateAsync(purpose, settings);

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>A fresh anonymous account's API token, from POST /api/v1/anonymous.</summary>
    protected static async Task<string> AnonymousTokenAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/api/v1/anonymous", null);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}
