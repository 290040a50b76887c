using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Taidon.Infrastructure.Identity;
using Taidon.Infrastructure.Persistence;
using Taidon.Tests.Support;

namespace Taidon.Tests.Infrastructure.Identity;

public sealed class AnonymousAccountsTests() : AppTests("anonymous")
{
    [Fact]
    public async Task RegisteringKeepsTheAccountIdSoItsDataStays()
    {
        using var scope = App.Services.CreateScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AnonymousAccounts>();
        var guest = await accounts.CreateAsync(CancellationToken.None);

        var result = await accounts.RegisterAsync(guest, "ana@example.org", "Str0ng-password");

        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        var stored = await db.Users.SingleAsync(u => u.Id == guest.Id);
        Assert.False(stored.IsAnonymous);
        Assert.Equal("ana@example.org", stored.Email);
    }

    [Fact]
    public async Task ARefusedRegistrationLeavesTheGuestAccountAsItWas()
    {
        using var scope = App.Services.CreateScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AnonymousAccounts>();
        var taken = await accounts.CreateAsync(CancellationToken.None);
        Assert.True((await accounts.RegisterAsync(taken, "taken@example.org", "Str0ng-password")).Succeeded);
        var guest = await accounts.CreateAsync(CancellationToken.None);
        var name = guest.UserName;

        var result = await accounts.RegisterAsync(guest, "taken@example.org", "Str0ng-password");

        Assert.False(result.Succeeded);
        Assert.Contains(result.Errors, e => e.Code == "DuplicateEmail");
        Assert.True(guest.IsAnonymous);
        Assert.Equal(name, guest.UserName);
        Assert.Null(guest.Email);
    }

    [Fact]
    public async Task StaleAnonymousAccountsAreRemovedAndRecentOnesAndRegisteredOnesKept()
    {
        using var scope = App.Services.CreateScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AnonymousAccounts>();
        var stale = await accounts.CreateAsync(CancellationToken.None);
        var recent = await accounts.CreateAsync(CancellationToken.None);
        var registered = await accounts.CreateAsync(CancellationToken.None);
        Assert.True((await accounts.RegisterAsync(registered, "kept@example.org", "Str0ng-password")).Succeeded);
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<ControlPlaneDbContext>>().CreateDbContextAsync();
        var longAgo = DateTimeOffset.UtcNow.AddDays(-31);
        await db.Users.Where(u => u.Id == stale.Id || u.Id == registered.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LastSeenAt, longAgo));

        var removed = await accounts.RemoveStaleAsync(CancellationToken.None);

        Assert.True(removed >= 1);
        Assert.False(await db.Users.AnyAsync(u => u.Id == stale.Id));
        Assert.True(await db.Users.AnyAsync(u => u.Id == recent.Id));
        Assert.True(await db.Users.AnyAsync(u => u.Id == registered.Id));
    }
}
