package sandbox

import (
	"fmt"
	"slices"
	"strings"
)

// Well-known seed ids, shared with the fixtures in shared/lever/fixtures.
const (
	UserPriya   = "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31" // super admin
	UserMarcus  = "2b6e9d40-1f3c-4a8b-9e57-c0d1a2b3f4e5" // admin, hiring manager
	UserLena    = "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14" // team member, recruiter
	StageRecScr = "3d8f1a6c-92b4-4e7d-a0c5-1f6e8b2d9a47" // Recruiter Screen
	StagePhone  = "7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08" // Phone Screen
	StageOnsite = "b1f0c6e2-4a7d-4c19-9e38-2d5a7f1c0b64" // On-site Interview
	StageRef    = "e6a4d2c8-1b9f-4f57-a3c0-8d2e6b4f1a95" // Reference Check
	StageOffer  = "4f8b2e6d-7c3a-4d01-b5e9-0a6c1e3f7d28" // Offer

	ReasonUnderqualified = "5e1c7a92-3f4d-4b68-8a0e-9d2b6c1f4e77"
	ReasonHired          = "9a3d5f71-2c8e-4b06-a4d9-6e1f3b7c0a52"
	ReasonWithdrew       = "c2e8a4f6-0d1b-4e73-9f25-7b3a6c9d1e40"
	ReasonNoResponse     = "7d1f3b5e-9a2c-4c68-b0e4-1f6a8d2c5b93"
	ReasonPositionFilled = "1b5e9c3a-6f8d-42a7-8c1e-4d9b2f7a0e36"
	ReasonHiredOther     = "f0a6c8e2-5b3d-4917-a2f8-3c7e1d9b6a04"
	ReasonTiming         = "8e2c6a0f-4d7b-4b35-9a61-2f5d8c3e7b19"

	PostingBackend  = "4c9e2a7f-1b3d-4e85-a6c0-8f2d5b9e1a36" // Senior Backend Engineer (Go), published
	PostingDesigner = "a8d1f3b6-7e2c-4590-b4a7-3c6e9f0d2b18" // Product Designer, internal
	PostingData     = "0b7f4e2d-9a16-4c3e-8d5b-6f1a2e7c9d04" // Data Engineer, draft
)

const day = int64(86_400_000)

var (
	firstNames = []string{"Avery", "Jordan", "Sam", "Noor", "Mateo", "Ingrid", "Kwame", "Sofia", "Hiroshi", "Amara",
		"Lukas", "Priyanka", "Tomás", "Elif", "Rafael", "Hannah", "Oluwaseun", "Mei", "Jonas", "Valentina",
		"Dmitri", "Aisha", "Finn", "Camila", "Arjun", "Zofia", "Emeka", "Clara", "Yusuf", "Maren",
		"Diego", "Leila", "Niklas", "Chiara", "Bongani", "Freya", "Ravi", "Ines", "Tobias", "Yara"}
	lastNames = []string{"Chen", "Alvarez", "Okafor", "Haddad", "Silva", "Johansson", "Mensah", "Rossi", "Tanaka", "Nwosu",
		"Becker", "Sharma", "García", "Yılmaz", "Costa", "Müller", "Adeyemi", "Lin", "Schmidt", "Moreno",
		"Volkov", "Rahman", "O'Brien", "Herrera", "Patel", "Nowak", "Eze", "Dubois", "Demir", "Lindqvist"}
	companies = []string{"Kinetic Labs", "Fernhill Systems", "Quarry Data", "Helix Analytics", "Brightline Studio",
		"Orbital Freight", "Tidewater Bank", "Lumen Health", "Cobalt Mobility", "Vantage Retail", "Nimbus Cloud", "Redwood Games"}
	places = []struct{ city, country, code, oppLoc string }{
		{"Berlin", "Germany", "+49", "Berlin"}, {"Madrid", "Spain", "+34", "Remote - EU"}, {"Lisbon", "Portugal", "+351", "Lisbon"},
		{"Munich", "Germany", "+49", "Berlin"}, {"Amsterdam", "Netherlands", "+31", "Remote - EU"}, {"Warsaw", "Poland", "+48", "Remote - EU"},
		{"London", "United Kingdom", "+44", "London"}, {"Paris", "France", "+33", "Remote - EU"}, {"Stockholm", "Sweden", "+46", "Remote - EU"},
		{"Milan", "Italy", "+39", "Remote - EU"}, {"Hamburg", "Germany", "+49", "Berlin"}, {"Porto", "Portugal", "+351", "Lisbon"},
	}
	mailDomains = []string{"mailbox.example", "inbox.example", "post.example", "example.net", "letters.example"}
	seedTags    = []string{"Backend", "Go", "Frontend", "Design", "Data", "Remote", "Berlin", "Senior", "Referral", "Hardware", "Sales", "High priority"}
	seedSources = []string{"LinkedIn", "Job site", "Referral", "Careers page", "Agency", "GitHub", "Conference"}
	phoneTypes  = []string{"mobile", "mobile", "mobile", "work", "home"}
)

func (s *Sandbox) pick(list []string) string { return list[s.rng.IntN(len(list))] }

func (s *Sandbox) seed() {
	now := s.nowMs() / 1000 * 1000
	s.stages = []Stage{
		{"lead-new", "New lead"}, {"lead-reached-out", "Reached out"}, {"lead-responded", "Responded"},
		{"applicant-new", "New applicant"}, {StageRecScr, "Recruiter Screen"}, {StagePhone, "Phone Screen"},
		{StageOnsite, "On-site Interview"}, {StageRef, "Reference Check"}, {StageOffer, "Offer"},
	}
	s.reasons = []ArchiveReason{
		{ReasonUnderqualified, "Underqualified", "active", "non-hired"},
		{ReasonHired, "Hired", "active", "hired"},
		{ReasonWithdrew, "Withdrew", "active", "non-hired"},
		{ReasonNoResponse, "No response", "active", "non-hired"},
		{ReasonPositionFilled, "Position filled", "active", "non-hired"},
		{ReasonHiredOther, "Hired for another posting", "active", "hired"},
		{ReasonTiming, "Timing", "inactive", "non-hired"},
	}
	s.seedUsers(now)
	if s.opts.NoSeed {
		return
	}
	s.seedPostings(now)
	s.seedOpportunities(now)
}

func (s *Sandbox) seedUsers(now int64) {
	type u struct {
		id, name, role, title, manager, ext string
		ageDays                             int64
		deactivated                         bool
		photo                               bool
	}
	list := []u{
		{UserPriya, "Priya Raman", "super admin", "Head of Talent", "", "NW-10042", 1020, false, true},
		{UserMarcus, "Marcus Oyelaran", "admin", "Engineering Manager", UserPriya, "NW-10118", 980, false, true},
		{UserLena, "Lena Fischer", "team member", "Technical Recruiter", UserPriya, "NW-10377", 800, false, false},
		{"", "Tomasz Wójcik", "admin", "People Operations Lead", UserPriya, "NW-10204", 900, false, true},
		{"", "Aiko Nakamura", "team member", "Recruiting Coordinator", UserLena, "NW-10455", 600, false, false},
		{"", "Gabriel Santos", "limited team member", "Sales Director", UserPriya, "NW-10512", 540, false, true},
		{"", "Fatima Al-Sayed", "interviewer", "Staff Software Engineer", UserMarcus, "NW-10583", 420, false, false},
		{"", "Oskar Lindgren", "interviewer", "Robotics Engineer", UserMarcus, "NW-10611", 300, false, true},
		{"", "Chloé Martin", "limited team member", "Design Lead", UserMarcus, "NW-10290", 700, true, false},
		{"", "Ben Adebayo", "team member", "Sourcer", UserLena, "NW-10333", 650, true, false},
	}
	for i, x := range list {
		id := x.id
		if id == "" {
			id = s.newID()
		}
		email := emailLocal(strings.ReplaceAll(x.name, " ", ".")) + "@northwind-robotics.example"
		user := &User{ID: id, Name: x.name, Username: usernameOf(email), Email: email,
			CreatedAt: now - x.ageDays*day + int64(i)*3_600_000, ExternalDirectoryID: ptr(x.ext),
			AccessRole: x.role, JobTitle: ptr(x.title)}
		if x.manager != "" {
			user.ManagerID = ptr(x.manager)
		}
		if x.photo {
			user.Photo = ptr(fmt.Sprintf("https://gravatar.com/avatar/%032x?s=26&d=404", s.rng.Uint64()))
		}
		if x.deactivated {
			user.DeactivatedAt = ptr(now - int64(30+i*7)*day)
		}
		s.users[id] = user
	}
}

func (s *Sandbox) seedPostings(now int64) {
	type p struct {
		id, text, team, dept, loc, commit, level, country, state, workplace, owner, hm string
		channels                                                                       []string
		confidential, salary                                                           bool
		tags                                                                           []string
		ageDays                                                                        int64
	}
	both := []string{"public", "internal"}
	list := []p{
		{PostingBackend, "Senior Backend Engineer (Go)", "Platform", "Engineering", "Berlin", "Full-time", "Senior", "DE", "published", "hybrid", UserLena, UserMarcus, both, false, true, []string{"engineering", "high-priority"}, 230},
		{PostingDesigner, "Product Designer", "Design", "Product", "Lisbon", "Full-time", "", "PT", "internal", "onsite", UserMarcus, UserMarcus, []string{}, false, false, []string{"design"}, 245},
		{PostingData, "Data Engineer", "Data", "Engineering", "Remote - EU", "Full-time", "", "", "draft", "remote", UserLena, "", both, false, false, []string{}, 12},
		{"", "Frontend Engineer (TypeScript)", "Fleet UI", "Engineering", "Berlin", "Full-time", "Mid", "DE", "published", "hybrid", UserLena, UserMarcus, both, false, true, []string{"engineering"}, 150},
		{"", "Robotics Field Technician", "Field Operations", "Operations", "Hamburg", "Full-time", "", "DE", "published", "onsite", UserLena, UserMarcus, []string{"internal"}, false, false, []string{"hardware"}, 120},
		{"", "Site Reliability Engineer", "Platform", "Engineering", "Remote - EU", "Full-time", "Senior", "", "published", "remote", UserLena, UserMarcus, both, false, true, []string{"engineering", "high-priority"}, 95},
		{"", "Account Executive, DACH", "Sales", "Commercial", "Munich", "Full-time", "", "DE", "published", "hybrid", UserPriya, UserPriya, both, false, true, []string{"sales"}, 80},
		{"", "QA Automation Engineer", "Quality", "Engineering", "Warsaw", "Contract", "", "PL", "internal", "remote", UserLena, UserMarcus, []string{"internal"}, false, false, []string{"engineering"}, 60},
		{"", "Customer Success Manager", "Customer Success", "Commercial", "London", "Full-time", "", "GB", "closed", "hybrid", UserPriya, UserPriya, both, false, false, []string{"sales"}, 300},
		{"", "VP of Engineering", "Leadership", "Engineering", "Berlin", "Full-time", "Executive", "DE", "closed", "hybrid", UserPriya, UserPriya, both, true, false, []string{"leadership"}, 200},
		{"", "Embedded Software Engineer", "Firmware", "Engineering", "Munich", "Full-time", "Mid", "DE", "pending", "onsite", UserLena, UserMarcus, both, false, true, []string{"engineering", "hardware"}, 7},
		{"", "Talent Sourcer (Intern)", "Talent", "People", "Berlin", "Internship", "Junior", "DE", "rejected", "hybrid", UserLena, UserPriya, both, false, false, []string{}, 20},
	}
	for i, x := range list {
		id := x.id
		if id == "" {
			id = s.newID()
		}
		created := now - x.ageDays*day + int64(i)*60_000
		updated := min(now, created+int64(s.rng.IntN(int(x.ageDays)+1))*day)
		ps := &Posting{ID: id, Text: x.text, CreatedAt: created, UpdatedAt: updated, User: x.owner, Owner: ptr(x.owner),
			Confidentiality: "non-confidential", Tags: cloneStrs(x.tags), State: x.state,
			DistributionChannels: cloneStrs(x.channels), RequisitionCodes: []string{}, WorkplaceType: x.workplace,
			Followers: []string{x.owner},
			Categories: Categories{Team: ptr(x.team), Department: ptr(x.dept), Location: ptr(x.loc),
				AllLocations: []string{x.loc}, Commitment: ptr(x.commit)},
			URLs: URLs{List: jobsURL, Show: jobsURL + "/" + id, Apply: jobsURL + "/" + id + "/apply"},
		}
		if x.confidential {
			ps.Confidentiality = "confidential"
		}
		if x.level != "" {
			ps.Categories.Level = ptr(x.level)
		}
		if x.country != "" {
			ps.Country = ptr(x.country)
		}
		if x.hm != "" {
			ps.HiringManager = ptr(x.hm)
			if x.hm != x.owner {
				ps.Followers = append(ps.Followers, x.hm)
			}
		}
		if x.workplace == "remote" && x.loc != "Remote - EU" {
			ps.Categories.AllLocations = append(ps.Categories.AllLocations, "Remote - EU")
		}
		if x.state != "draft" {
			code := fmt.Sprintf("%s-%d", strings.ToUpper(x.dept[:3]), 100+i*7)
			ps.ReqCode, ps.RequisitionCodes = ptr(code), []string{code}
		}
		desc := fmt.Sprintf("Northwind Robotics builds fleet software for warehouse robots. As our %s you will join the %s team.", x.text, x.team)
		ps.Content = Content{Description: desc, DescriptionHTML: "<div>" + desc + "</div>",
			Lists: []ContentList{
				{Text: "What you will do", Content: "<li>Ship work that runs thousands of robots</li><li>Work closely with the " + x.team + " team</li>"},
				{Text: "What we look for", Content: "<li>Curiosity and ownership</li><li>Clear written communication</li>"},
			},
			Closing: "Northwind Robotics is an equal opportunity employer.", ClosingHTML: "<div>Northwind Robotics is an equal opportunity employer.</div>"}
		if x.salary {
			base := float64(50_000 + 5_000*s.rng.IntN(10))
			ps.SalaryRange = &SalaryRange{Min: base, Max: base + 25_000, Currency: "EUR", Interval: "per-year-salary"}
			ps.SalaryDescription, ps.SalaryDescriptionHTML = ptr("Base salary plus equity."), ptr("<p>Base salary plus equity.</p>")
		}
		s.postings[id] = ps
	}
}

type seedPosting struct {
	id, state, loc string
	confidential   bool
}

func (s *Sandbox) seedOpportunities(now int64) {
	// Postings candidates can have applied to, in a stable order.
	var open []seedPosting
	for _, id := range s.sortedPostingIDs() {
		p := s.postings[id]
		if p.State == "published" || p.State == "internal" || p.State == "closed" {
			open = append(open, seedPosting{p.ID, p.State, strOr(p.Categories.Location), p.Confidentiality == "confidential"})
		}
	}
	for _, t := range seedTags {
		s.tagSet[t] = true
	}
	for _, t := range seedSources {
		s.sourceSet[t] = true
	}
	activeUsers := []string{UserLena, UserMarcus, UserPriya}
	used := map[string]bool{}
	var contacts []*Contact
	const total = 64
	for i := 0; i < total; i++ {
		var c *Contact
		// Every 16th opportunity is a second candidacy of an earlier contact.
		if i%16 == 15 && len(contacts) > 0 {
			c = contacts[s.rng.IntN(len(contacts))]
		} else {
			var first, last string
			for {
				first, last = s.pick(firstNames), s.pick(lastNames)
				if !used[first+last] {
					used[first+last] = true
					break
				}
			}
			pl := places[s.rng.IntN(len(places))]
			email := emailLocal(first+"."+last) + "@" + s.pick(mailDomains)
			c = &Contact{ID: s.newID(), Name: first + " " + last, Emails: []string{email},
				Location: &ContactLocation{Name: pl.city + ", " + pl.country}}
			c.Headline = s.pick(companies)
			if s.rng.IntN(2) == 0 {
				c.Headline += ", " + s.pick(companies)
			}
			c.Phones = []Phone{}
			if s.rng.IntN(5) > 0 {
				c.Phones = append(c.Phones, Phone{Type: s.pick(phoneTypes),
					Value: fmt.Sprintf("%s %d %d %04d", pl.code, 100+s.rng.IntN(900), 100+s.rng.IntN(900), s.rng.IntN(10000))})
			}
			if s.rng.IntN(6) == 0 {
				c.Emails = append(c.Emails, emailLocal(first[:1]+"."+last)+"@work.example")
			}
			s.contacts[c.ID] = c
			contacts = append(contacts, c)
		}
		owner := activeUsers[s.rng.IntN(len(activeUsers))]
		o := &opp{id: s.newID(), contact: c.ID, confidentiality: "non-confidential", owner: ptr(owner),
			followers: []string{owner}, links: []string{}}
		o.createdAt = now - int64(2+s.rng.IntN(178))*day - int64(s.rng.IntN(86_400))*1000
		withPosting := i%3 != 2 // two thirds applied to a posting
		start := 0
		if withPosting {
			p := open[s.rng.IntN(len(open))]
			o.posting, o.application = p.id, s.newID()
			o.origin = []string{"applied", "applied", "applied", "referred", "agency", "university"}[s.rng.IntN(6)]
			if p.confidential {
				o.confidentiality = "confidential"
			}
			start = 3
			o.opportunityLocation = p.loc
		} else {
			o.origin = []string{"sourced", "sourced", "sourced", "internal"}[s.rng.IntN(4)]
			o.sourcedBy = ptr(owner)
			o.opportunityLocation = places[s.rng.IntN(len(places))].oppLoc
		}
		target := start + s.rng.IntN(len(s.stages)-start)
		if !withPosting && s.rng.IntN(3) > 0 {
			target = s.rng.IntN(3) // most leads stay leads
		}
		// Walk the pipeline from start to target.
		n := target - start + 1
		span := now - o.createdAt
		for k := 0; k < n; k++ {
			at := o.createdAt + span*int64(k)/int64(n+1)
			at = at / 1000 * 1000
			var uid *string
			if k > 0 || !withPosting {
				uid = ptr(owner)
			}
			o.stageChanges = append(o.stageChanges, StageChange{ToStageID: s.stages[start+k].ID, ToStageIndex: start + k, UpdatedAt: at, UserID: uid})
		}
		last := o.stageChanges[len(o.stageChanges)-1]
		o.stage, o.lastAdvancedAt = last.ToStageID, last.UpdatedAt
		o.updatedAt = last.UpdatedAt + int64(1+s.rng.IntN(3600))*1000
		// Archive about one in five: offers end hired, the rest not.
		if i%5 == 4 || s.stages[target].ID == StageOffer && i%2 == 0 {
			reason := []string{ReasonUnderqualified, ReasonWithdrew, ReasonNoResponse, ReasonPositionFilled}[s.rng.IntN(4)]
			if s.stages[target].ID == StageOffer {
				reason = ReasonHired
			}
			at := o.updatedAt + int64(1+s.rng.IntN(48))*3_600_000
			o.archived = &Archived{ArchivedAt: min(at, now), Reason: reason}
			o.updatedAt = o.archived.ArchivedAt
		}
		o.updatedAt = min(o.updatedAt, now)
		o.lastInteractionAt = o.updatedAt - 1000
		for k := s.rng.IntN(4); k > 0; k-- {
			if t := s.pick(seedTags); !slices.Contains(o.tags, t) {
				o.tags = append(o.tags, t)
			}
		}
		if o.tags == nil {
			o.tags = []string{}
		}
		src := s.pick(seedSources)
		switch o.origin {
		case "referred":
			src = "Referral"
		case "agency":
			src = "Agency"
		}
		o.sources = []string{src}
		if s.rng.IntN(3) == 0 {
			o.links = append(o.links, "https://www.linkedin.com/in/"+strings.ToLower(strings.ReplaceAll(c.Name, " ", "-")))
		}
		if s.rng.IntN(4) == 0 {
			o.links = append(o.links, "https://github.com/"+strings.ToLower(strings.ReplaceAll(c.Name, " ", "")))
		}
		if o.owner != nil && *o.owner != UserMarcus && s.rng.IntN(2) == 0 {
			o.followers = append(o.followers, UserMarcus)
		}
		if s.rng.IntN(3) == 0 {
			o.dataProtection = &DataProtection{Store: Permission{Allowed: true, ExpiresAt: ptr(o.createdAt + 730*day)},
				Contact: Permission{Allowed: true}}
		}
		if i%13 == 6 && o.archived == nil {
			o.snoozedUntil = ptr(now + int64(3+s.rng.IntN(20))*day)
		}
		s.opps[o.id] = o
	}
}

func (s *Sandbox) sortedPostingIDs() []string {
	ids := make([]string, 0, len(s.postings))
	for id := range s.postings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

var asciiFold = strings.NewReplacer("'", "", "-", "", "á", "a", "é", "e", "í", "i", "ı", "i", "ó", "o", "ü", "u", "ç", "c")

// emailLocal turns a name into the ASCII local part of an email address.
func emailLocal(name string) string { return strings.ToLower(asciiFold.Replace(name)) }
