package g2p

import (
	"context"
	"errors"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The G2P Connect disburse messages (disburse_core_api_v1.0.0.yaml): a batch of
// disbursements, each with its reference id (the instruction id), payer and payee
// financial addresses and amount; the answer, a status per reference id.

// Disbursement is one item of DisburseRequest.disbursements.
type Disbursement struct {
	ReferenceID  string `json:"reference_id"`
	PayerFA      string `json:"payer_fa"`
	PayeeFA      string `json:"payee_fa"`
	Amount       string `json:"amount"` // decimal, two places
	CurrencyCode string `json:"currency_code"`
	Scheduled    string `json:"scheduled_timestamp,omitempty"`
	PayerName    string `json:"payer_name,omitempty"`
	Note         string `json:"note,omitempty"`
	Purpose      string `json:"purpose,omitempty"`
}

// DisburseRequest is the message of /disburse/sync/disburse.
type DisburseRequest struct {
	TransactionID string         `json:"transaction_id"`
	Disbursements []Disbursement `json:"disbursements"`
}

// DisbursementStatus is one item of DisburseResponse.disbursements_status.
type DisbursementStatus struct {
	ReferenceID   string `json:"reference_id"`
	Timestamp     string `json:"timestamp"`
	Status        string `json:"status"` // succ or rjct
	ReasonCode    string `json:"status_reason_code,omitempty"`
	ReasonMessage string `json:"status_reason_message,omitempty"`
}

// DisburseResponse answers a DisburseRequest.
type DisburseResponse struct {
	TransactionID string               `json:"transaction_id"`
	Statuses      []DisbursementStatus `json:"disbursements_status"`
}

// Disburser is a paying bank reached through the G2P Connect disburse interface.
type Disburser interface {
	Disburse(ctx context.Context, req DisburseRequest) (DisburseResponse, error)
}

// MaxDisbursements bounds one message; a cycle is sent in messages of this size.
const MaxDisbursements = 10_000

// BankDisburser is the bank's side of the disburse interface over a bank.Institution:
// each disbursement checked and turned into an instruction, the instructions paid once
// by reference id (a batch sent twice pays once: the second answers
// rjct.reference_id.duplicate for each, as the standard names it, and pays nothing).
type BankDisburser struct {
	Bank bank.Institution
	Now  func() time.Time
}

// Disburse pays req.
func (d BankDisburser) Disburse(ctx context.Context, req DisburseRequest) (DisburseResponse, error) {
	if req.TransactionID == "" || len(req.TransactionID) > 99 {
		return DisburseResponse{}, fault.Invalidf("transaction_id", "1 to 99 characters")
	}
	if len(req.Disbursements) > MaxDisbursements {
		return DisburseResponse{}, fault.TooLargef("disbursements", "at most %d in one message", MaxDisbursements)
	}
	ts := d.Now().UTC().Format(time.RFC3339)
	res := DisburseResponse{TransactionID: req.TransactionID, Statuses: make([]DisbursementStatus, len(req.Disbursements))}
	ins := make([]bank.Instruction, 0, len(req.Disbursements))
	at := make([]int, 0, len(req.Disbursements))
	for i, it := range req.Disbursements {
		res.Statuses[i] = DisbursementStatus{ReferenceID: it.ReferenceID, Timestamp: ts}
		in, code, err := instruction(req.TransactionID, it)
		if err != nil {
			res.Statuses[i].Status, res.Statuses[i].ReasonCode, res.Statuses[i].ReasonMessage = "rjct", code, err.Error()
			continue
		}
		ins = append(ins, in)
		at = append(at, i)
	}
	rs, err := d.Bank.Pay(ctx, ins)
	if err != nil {
		return DisburseResponse{}, err
	}
	for k, r := range rs {
		st := &res.Statuses[at[k]]
		switch r.Status {
		case bank.Accepted:
			st.Status = "succ"
		case bank.Duplicate:
			st.Status, st.ReasonCode, st.ReasonMessage = "rjct", "rjct.reference_id.duplicate", r.Reason
		default:
			st.Status, st.ReasonCode, st.ReasonMessage = "rjct", "rjct.reference_id.invalid", r.Reason
		}
	}
	return res, nil
}

// instruction reads one disbursement; the code names the field at fault.
func instruction(txn string, it Disbursement) (bank.Instruction, string, error) {
	var in bank.Instruction
	var err error
	in.ID, in.Batch, in.Currency, in.Remit = it.ReferenceID, txn, it.CurrencyCode, it.Note
	if in.Payer, _, err = ParseFinancialAddress(it.PayerFA); err != nil {
		return in, "rjct.payer_fa.invalid", err
	}
	if in.Payee, _, err = ParseFinancialAddress(it.PayeeFA); err != nil {
		return in, "rjct.payee_fa.invalid", err
	}
	if in.Amount, err = bank.ParseAmount(it.Amount); err != nil {
		return in, "rjct.amount.invalid", err
	}
	if it.Scheduled != "" {
		t, err := time.Parse(time.RFC3339, it.Scheduled)
		if err != nil {
			return in, "rjct.schedule_ts.invalid", fault.Invalidf("scheduled_timestamp", "RFC 3339 with a time zone")
		}
		in.Day = date.FromTime(t)
	}
	if err := bank.CheckInstruction(in); err != nil {
		code := "rjct.reference_id.invalid"
		var fe *fault.Error
		errors.As(err, &fe)
		switch fe.Field {
		case "amount":
			code = "rjct.amount.invalid"
		case "currency":
			code = "rjct.currency_code.invalid"
		}
		return in, code, err
	}
	return in, "", nil
}

// disbursement is the message item of an instruction.
func (s *Service) disbursement(in Instr) Disbursement {
	return Disbursement{ReferenceID: in.ID, PayerFA: FinancialAddress(s.Programme.Account, s.BankCode),
		PayeeFA: FinancialAddress(in.Payee, s.BankCode), Amount: bank.FormatAmount(in.Amount), CurrencyCode: in.Currency,
		Scheduled: in.Day.Time().Format(time.RFC3339), PayerName: s.Programme.Name,
		Note: s.Programme.Name + " " + in.Cycle, Purpose: s.Programme.Name}
}
